/* The date picker's language (issue 16): Dash 4's DatePickerRange formats its calendar with
 * date-fns and takes the locale from window.dateFns.locale by the browser's languages (the
 * first one it has, else the first here). The page's language is the person's own choice
 * (<html lang>), so only that one is offered: an English page has none (date-fns' own). These are the words it uses — month names, weekday
 * names, Monday first and ISO weeks — in Finnish and Swedish, written here rather than loading
 * date-fns' own locale files (the page's only scripts are our own, under the CSP). */
(function () {
  "use strict";
  function locale(code, months, days, short, narrow, dateFormat) {
    var pick = function (values) {
      return function (i, o) {
        var width = (o && o.width) || "wide";
        return (values[width] || values.wide)[i];
      };
    };
    return {
      code: code,
      localize: {
        ordinalNumber: function (n) { return n + "."; },
        era: function (i) { return ["eKr.", "jKr."][i]; },
        quarter: function (i) { return "Q" + i; },
        month: pick({wide: months, abbreviated: months.map(function (m) { return m.slice(0, 3); }),
                     narrow: months.map(function (m) { return m.slice(0, 1).toUpperCase(); })}),
        day: pick({wide: days, abbreviated: short, short: short, narrow: narrow}),
        dayPeriod: function (p) { return p; }
      },
      formatLong: {
        date: function () { return dateFormat; },
        time: function () { return "HH.mm"; },
        dateTime: function () { return "{{date}} {{time}}"; }
      },
      options: {weekStartsOn: 1, firstWeekContainsDate: 4}
    };
  }
  var fi = locale("fi",
    ["tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesäkuu", "heinäkuu", "elokuu",
     "syyskuu", "lokakuu", "marraskuu", "joulukuu"],
    ["sunnuntai", "maanantai", "tiistai", "keskiviikko", "torstai", "perjantai", "lauantai"],
    ["su", "ma", "ti", "ke", "to", "pe", "la"], ["S", "M", "T", "K", "T", "P", "L"], "d.M.y");
  var sv = locale("sv",
    ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
     "november", "december"],
    ["söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"],
    ["sö", "må", "ti", "on", "to", "fr", "lö"], ["S", "M", "T", "O", "T", "F", "L"], "d.M.y");
  var page = (document.documentElement.getAttribute("lang") || "fi").slice(0, 2);
  var ours = {fi: fi, sv: sv};
  window.dateFns = window.dateFns || {};
  window.dateFns.locale = {};
  if (ours[page]) { window.dateFns.locale[page] = ours[page]; }
})();
