"""The workbook's sheets and columns, with their Finnish, Swedish and English names."""

from __future__ import annotations

from dataclasses import dataclass

LANGS = ("fi", "sv", "en")


@dataclass(frozen=True)
class Column:
    key: str
    names: dict[str, str]
    # count, number, number_or_above (a number, or "> 90": beyond it), date, time, datetime,
    # day_or_time (a date, a time of today, or both), unit, unit_or_all, metric (one of the
    # centre's own), text, importance, yesno
    kind: str
    required: bool = True
    width: int = 16


@dataclass(frozen=True)
class Sheet:
    key: str
    names: dict[str, str]
    columns: tuple[Column, ...]
    identity: tuple[str, ...]  # columns that make a row's key: two rows may not share it

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _c(key: str, fi: str, sv: str, en: str, kind: str, required: bool = True, width: int = 16) -> Column:
    return Column(key, {"fi": fi, "sv": sv, "en": en}, kind, required, width)


DAY = _c("day", "Päivä", "Dag", "Date", "date", width=13)
UNIT = _c("unit", "Yksikkö", "Enhet", "Unit", "unit", width=30)
PROFESSION = _c("profession", "Ammattiryhmä", "Yrkesgrupp", "Profession", "text", width=26)

SHEETS: tuple[Sheet, ...] = (
    Sheet("staffing", {"fi": "Henkilöstö", "sv": "Personal", "en": "Staffing"}, (
        DAY, UNIT, PROFESSION,
        _c("planned", "Suunniteltu", "Planerat", "Planned", "count", width=13),
        _c("present", "Paikalla", "På plats", "Present", "count", width=12),
        _c("substitutes", "Sijaiset", "Vikarier", "Substitutes", "count", required=False, width=11),
        _c("remark", "Huomio", "Anmärkning", "Remark", "text", required=False, width=40),
    ), ("day", "unit", "profession")),
    Sheet("appointments", {"fi": "Ajanvaraus", "sv": "Tidsbokning", "en": "Appointments"}, (
        DAY, UNIT, PROFESSION,
        _c("free_today", "Vapaat ajat tänään", "Lediga tider idag", "Free today", "count", width=20),
        _c("free_3wd", "Vapaat ajat 3 arkipäivää", "Lediga tider 3 vardagar",
           "Free in 3 working days", "count", width=26),
        # "> 90": no third free time within the 90 days looked at (value 90, bound "above")
        _c("t3_days", "T3 (päivää)", "T3 (dagar)", "T3 (days)", "number_or_above", width=13),
    ), ("day", "unit", "profession")),
    Sheet("queues", {"fi": "Jonot", "sv": "Köer", "en": "Queues"}, (
        _c("time", "Kellonaika", "Klockslag", "Time", "time", width=12),
        UNIT,
        _c("queue", "Jono", "Kö", "Queue", "text", width=26),
        _c("waiting", "Jonossa", "I kö", "Waiting", "count", width=11),
        _c("longest", "Pisin odotus (min)", "Längsta väntan (min)", "Longest wait (min)", "number", width=20),
        _c("average", "Keskimääräinen odotus (min)", "Medelväntan (min)", "Mean wait (min)", "number",
           required=False, width=28),
    ), ("time", "unit", "queue")),
    Sheet("capacity", {"fi": "Kapasiteetti", "sv": "Kapacitet", "en": "Capacity"}, (
        DAY, UNIT,
        _c("resource", "Resurssi", "Resurs", "Resource", "text", width=26),
        _c("in_use", "Käytössä", "I bruk", "In use", "count", width=11),
        _c("total", "Yhteensä", "Totalt", "Total", "count", width=11),
    ), ("day", "unit", "resource")),
    Sheet("notices", {"fi": "Tiedotteet", "sv": "Meddelanden", "en": "Notices"}, (
        _c("starts", "Alkaa", "Börjar", "Starts", "datetime", width=18),
        _c("ends", "Päättyy", "Slutar", "Ends", "datetime", width=18),
        _c("unit", "Yksikkö", "Enhet", "Unit", "unit_or_all", width=30),
        _c("text", "Teksti", "Text", "Text", "text", width=60),
        _c("importance", "Tärkeys", "Prioritet", "Importance", "importance", width=14),
        _c("public", "Julkinen", "Offentlig", "Public", "yesno", required=False, width=11),
        # shown in the Swedish turns of bilingual screens; without it they show the Finnish text
        _c("text_sv", "Teksti ruotsiksi", "Text på svenska", "Text in Swedish", "text", required=False, width=60),
    ), ("starts", "unit", "text")),
    # the centre's own metrics (`[[metrics]]`): one value a row, the metric by its name or id;
    # the key only where the metric is keyed by more than its unit
    Sheet("own_metrics", {"fi": "Muut mittarit", "sv": "Övriga mätare", "en": "Other metrics"}, (
        _c("when", "Päivä tai kellonaika", "Dag eller klockslag", "Date or time", "day_or_time", width=20),
        UNIT,
        _c("metric", "Mittari", "Mätare", "Metric", "metric", width=32),
        _c("key", "Tarkenne", "Precisering", "Key", "text", required=False, width=22),
        _c("value", "Arvo", "Värde", "Value", "number", width=11),
    ), ("when", "unit", "metric", "key")),
)
OWN = next(s for s in SHEETS if s.key == "own_metrics")
# the built-in metrics a sheet's columns give (the rest come from the systems only)
SHEET_METRICS: dict[str, dict[str, str]] = {
    "staffing": {"planned": "staff.planned", "present": "staff.present", "substitutes": "staff.substitutes"},
    "appointments": {"free_today": "appointments.free_today", "free_3wd": "appointments.free_3wd",
                     "t3_days": "appointments.t3_days"},
    "queues": {"waiting": "queue.waiting", "longest": "queue.longest_wait_min", "average": "queue.avg_wait_min"},
    "capacity": {"in_use": "capacity.in_use", "total": "capacity.total"},
}
# what an own metric's value is keyed by besides its unit (`[[metrics]] keyed_by`)
KEYED_BY = {
    "queue": {"fi": "jono", "sv": "kö", "en": "queue"},
    "profession": {"fi": "ammattiryhmä", "sv": "yrkesgrupp", "en": "profession"},
    "resource": {"fi": "resurssi", "sv": "resurs", "en": "resource"},
    "label": {"fi": "tarkenne", "sv": "precisering", "en": "key"},
}

HELP_SHEET = {"fi": "Ohje", "sv": "Anvisning", "en": "Help"}
ALL_UNITS = {"fi": "kaikki", "sv": "alla", "en": "all"}
IMPORTANCE = {  # canonical value (Finnish, as stored and shown) -> words accepted
    "info": {"info", "tiedote", "information"},
    "tärkeä": {"tärkeä", "viktig", "important"},
    "kiireellinen": {"kiireellinen", "brådskande", "urgent"},
}
IMPORTANCE_WORDS = {"fi": ["info", "tärkeä", "kiireellinen"], "sv": ["info", "viktig", "brådskande"],
                    "en": ["info", "important", "urgent"]}
YES = {"kyllä", "k", "ja", "j", "yes", "y", "x", "1", "true", "tosi"}
NO = {"ei", "e", "nej", "n", "no", "0", "false", "epätosi", ""}
YESNO_WORDS = {"fi": ["kyllä", "ei"], "sv": ["ja", "nej"], "en": ["yes", "no"]}
TEXT_MAX = 200
COMMON_PROFESSIONS = [
    "lääkäri", "sairaanhoitaja", "terveydenhoitaja", "lähihoitaja", "hammaslääkäri",
    "suuhygienisti", "hammashoitaja", "bioanalyytikko", "laboratoriohoitaja", "psykologi",
    "psykiatrinen sairaanhoitaja", "sosiaalityöntekijä", "sosiaaliohjaaja", "fysioterapeutti",
]


def fold(text: object) -> str:
    """Names are compared without case and surrounding spaces."""
    return " ".join(str(text).split()).casefold()
