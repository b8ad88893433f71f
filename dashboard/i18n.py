"""Words and formats for people, in Finnish, Swedish and English (Babel for the formats)."""

from __future__ import annotations

from datetime import datetime

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}
# Babel's Locale objects, parsed once: Babel parses a locale's name again on every call given
# one (a third of the access page's time went to it: 2,500 numbers a page)
BABEL = {lang: Locale.parse(name) for lang, name in LOCALES.items()}

TEXT: dict[str, dict[str, str]] = {
    "fi": {
        "forecast_key": "ennuste, 80 % väli",
        "forecast_total": "ennuste: päivä yhteensä noin {n} ({lo}–{hi})",
        "forecast_hour": "ennuste noin {n} ({lo}–{hi})",
        "actions_acked": "toimenpiteet {k}/{n} kuitattu",
        "substitutes_n": "{n} sijaista",
        "substitute_one": "1 sijainen",
        "substitutes_none": "ei sijaisia",
        "limit_met": "raja {limit}: täyttyy",
        "limit_below": "alle rajan {limit}",
        "limit_above": "yli rajan {limit}",
        "own_is": "{name} = {formula}",
        "region": "Alueen tilannekuva",
        "level_short": "taso",
        "free_3wd_long": "vapaat ajat 3 arkipv",
        "of_typical": "tavallisesta päivästä",
        "t3_median_worst": "T3 pv, mediaani / pahin:",
        "queues": "Jonot",
        "callbacks": "Takaisinsoitot",
        "staff": "Henkilöstö",
        "appointments": "Vapaat ajat",
        "capacity": "Tilat ja laitteet",
        "flow": "Päivän kulku",
        "access": "Hoitoon pääsy",
        "access_within_week": "määräajassa tällä viikolla",
        "access_open_past": "avoinna yli määräajan",
        "access_means": "Tällä viikolla alkaneista (hoito tai palvelu alkoi) osuus, joka alkoi lain määräajassa; kiireelliset erikseen.",
        "notices": "Tiedotteet",
        "waiting": "jonossa",
        "longest": "pisin odotus",
        "average": "keskim. odotus",
        "min": "min",
        "pending": "odottaa soittoa",
        "oldest": "vanhin",
        "present_planned": "paikalla / suunniteltu",
        "free_today": "tänään",
        "free_3wd": "3 arkipv",
        "t3": "T3 pv",
        "in_use": "käytössä",
        "arrivals": "saapuneet",
        "completed": "käynnit valmiit",
        "no_shows": "peruuttamatta jääneet",
        "typical": "tavallinen päivä",
        "today": "tänään",
        "data_as_of": "Tiedot",
        "no_data": "ei tietoa",
        "stale_since": "vanha tieto",
        "updated_ago": "päivitetty {n} min sitten",
        "updated_recent": "päivitetty alle minuutti sitten",
        "offline": "Ei yhteyttä palvelimeen {since} alkaen – näytössä viimeisimmät tiedot",
        "no_live_data": "Tiedot eivät päivity {since} alkaen – näytössä viimeisimmät tiedot",
        "demo": "DEMO – simuloitu päivä {day}",
        "escalation": "Valmiustaso",
        "profession": "ammattiryhmä",
        "queue_empty": "Ei jonoa",
        "unknown_display": "Tuntematon näyttö",
        "wait_estimate": "arvioitu odotus",
        "longest_min": "pisin odotus, min",
        "average_min": "keskim. odotus, min",
        "oldest_min": "vanhin, min",
        "present_ratio": "henkilöstöä paikalla",
        "limit": "raja",
        "more_reasons": "ja {n} muuta",
        "wait_under": "alle {n} min",
        "wait_about": "noin {n} min",
        "arrivals_chart": "Saapuneet tunneittain tänään ja tavallisena päivänä",
        "staff_appointments": "Henkilöstö ja vapaat ajat",
        "closed": "Suljettu",
        "set_by": "asettanut",
        "page_of": "{n}/{total}",
        "estimate_min": "arvioitu odotus, min",
        "called_hour": "kutsuttu tunnissa",
        "points_open": "pisteitä auki",
        "corrected_until": "✎ korjattu {time} asti",
        "days_short": "pv",
        "free_3wd_means": "3 arkipv: seuraavat 3 arkipäivää, ei tänään",
        "rules_level": "säännöt: {n}",
        "closed_unit": "suljettu",
        "in_progress": "kesken",
        "wait_range": "{low}–{high} min",
        "wait_at_least": "vähintään {n} min",
    },
    "sv": {
        "forecast_key": "prognos, 80 % intervall",
        "forecast_total": "prognos: dagen totalt cirka {n} ({lo}–{hi})",
        "forecast_hour": "prognos cirka {n} ({lo}–{hi})",
        "actions_acked": "åtgärder {k}/{n} kvitterade",
        "substitutes_n": "{n} vikarier",
        "substitute_one": "1 vikarie",
        "substitutes_none": "inga vikarier",
        "limit_met": "gräns {limit}: uppfylls",
        "limit_below": "under gränsen {limit}",
        "limit_above": "över gränsen {limit}",
        "own_is": "{name} = {formula}",
        "region": "Lägesbild för området",
        "level_short": "nivå",
        "free_3wd_long": "lediga tider 3 vardagar",
        "of_typical": "av en vanlig dag",
        "t3_median_worst": "T3 dgr, median / sämst:",
        "queues": "Köer",
        "callbacks": "Återuppringningar",
        "staff": "Personal",
        "appointments": "Lediga tider",
        "capacity": "Rum och utrustning",
        "flow": "Dagens flöde",
        "access": "Tillgång till vård",
        "access_within_week": "inom tidsgränsen denna vecka",
        "access_open_past": "öppna efter tidsgränsen",
        "access_means": "Andelen av dem som fick vård eller service denna vecka som fick den inom lagens tidsgräns; brådskande skilt.",
        "notices": "Meddelanden",
        "waiting": "i kö",
        "longest": "längsta väntan",
        "average": "medelväntan",
        "min": "min",
        "pending": "väntar på samtal",
        "oldest": "äldsta",
        "present_planned": "på plats / planerat",
        "free_today": "idag",
        "free_3wd": "3 vardagar",
        "t3": "T3 d",
        "in_use": "i bruk",
        "arrivals": "ankomna",
        "completed": "besök klara",
        "no_shows": "uteblivna",
        "typical": "vanlig dag",
        "today": "idag",
        "data_as_of": "Uppgifter",
        "no_data": "inga uppgifter",
        "stale_since": "gammal uppgift",
        "updated_ago": "uppdaterad för {n} min sedan",
        "updated_recent": "uppdaterad för under en minut sedan",
        "offline": "Ingen förbindelse till servern sedan {since} – senaste uppgifter visas",
        "no_live_data": "Uppgifterna uppdateras inte sedan {since} – senaste uppgifter visas",
        "demo": "DEMO – simulerad dag {day}",
        "escalation": "Beredskapsnivå",
        "profession": "yrkesgrupp",
        "queue_empty": "Ingen kö",
        "unknown_display": "Okänd skärm",
        "wait_estimate": "beräknad väntan",
        "longest_min": "längsta väntan, min",
        "average_min": "medelväntan, min",
        "oldest_min": "äldsta, min",
        "present_ratio": "personal på plats",
        "limit": "gräns",
        "more_reasons": "och {n} till",
        "wait_under": "under {n} min",
        "wait_about": "cirka {n} min",
        "arrivals_chart": "Ankomna per timme i dag och en vanlig dag",
        "staff_appointments": "Personal och lediga tider",
        "closed": "Stängt",
        "set_by": "satt av",
        "page_of": "{n}/{total}",
        "estimate_min": "beräknad väntan, min",
        "called_hour": "kallade på en timme",
        "points_open": "öppna punkter",
        "corrected_until": "✎ korrigerad till {time}",
        "days_short": "d",
        "free_3wd_means": "3 vardagar: de följande 3 vardagarna, inte i dag",
        "rules_level": "regler: {n}",
        "closed_unit": "stängt",
        "in_progress": "pågår",
        "wait_range": "{low}–{high} min",
        "wait_at_least": "minst {n} min",
    },
    "en": {
        "forecast_key": "forecast, 80 % range",
        "forecast_total": "forecast: day total about {n} ({lo}–{hi})",
        "forecast_hour": "forecast about {n} ({lo}–{hi})",
        "actions_acked": "actions {k}/{n} acknowledged",
        "substitutes_n": "{n} substitutes",
        "substitute_one": "1 substitute",
        "substitutes_none": "no substitutes",
        "limit_met": "limit {limit}: met",
        "limit_below": "below the limit {limit}",
        "limit_above": "above the limit {limit}",
        "own_is": "{name} = {formula}",
        "region": "Regional picture",
        "level_short": "level",
        "free_3wd_long": "free slots, 3 working days",
        "of_typical": "of a typical day",
        "t3_median_worst": "T3 days, median / worst:",
        "queues": "Queues",
        "callbacks": "Call-backs",
        "staff": "Staff",
        "appointments": "Free appointments",
        "capacity": "Rooms and equipment",
        "flow": "Today's flow",
        "access": "Access to care",
        "access_within_week": "within the limit this week",
        "access_open_past": "open past the limit",
        "access_means": "Of the cases whose treatment or service began this week, the share that began within the legal limit; urgent ones apart.",
        "notices": "Notices",
        "waiting": "waiting",
        "longest": "longest wait",
        "average": "mean wait",
        "min": "min",
        "pending": "awaiting call",
        "oldest": "oldest",
        "present_planned": "present / planned",
        "free_today": "today",
        "free_3wd": "3 work days",
        "t3": "T3 days",
        "in_use": "in use",
        "arrivals": "arrivals",
        "completed": "visits done",
        "no_shows": "no-shows",
        "typical": "typical day",
        "today": "today",
        "data_as_of": "Data as of",
        "no_data": "no data",
        "stale_since": "old data",
        "updated_ago": "updated {n} min ago",
        "updated_recent": "updated under a minute ago",
        "offline": "No connection to the server since {since} – showing the last data",
        "no_live_data": "The data has not been updated since {since} – showing the last data",
        "demo": "DEMO – simulated day {day}",
        "escalation": "Escalation level",
        "profession": "profession",
        "queue_empty": "No queue",
        "unknown_display": "Unknown display",
        "wait_estimate": "estimated wait",
        "longest_min": "longest wait, min",
        "average_min": "mean wait, min",
        "oldest_min": "oldest, min",
        "present_ratio": "staff present",
        "limit": "limit",
        "more_reasons": "and {n} more",
        "wait_under": "under {n} min",
        "wait_about": "about {n} min",
        "arrivals_chart": "Arrivals per hour today and on a typical day",
        "staff_appointments": "Staff and free appointments",
        "closed": "Closed",
        "set_by": "set by",
        "page_of": "{n}/{total}",
        "estimate_min": "estimated wait, min",
        "called_hour": "called in the last hour",
        "points_open": "points open",
        "corrected_until": "✎ corrected until {time}",
        "days_short": "d",
        "free_3wd_means": "3 work days: the next 3 working days, not today",
        "rules_level": "rules: {n}",
        "closed_unit": "closed",
        "in_progress": "in progress",
        "wait_range": "{low}–{high} min",
        "wait_at_least": "at least {n} min",
    },
}


def t(lang: str, key: str, **kw: object) -> str:
    return TEXT.get(lang, TEXT["fi"])[key].format(**kw)


def number(value: float | int | None, lang: str) -> str:
    """Numbers for people: a decimal comma in Finnish and Swedish, at most one decimal."""
    if value is None:
        return "–"
    return format_decimal(round(value, 1), format="#,##0.#", locale=BABEL[lang])


def fixed(value: float | int | None, decimals: int, lang: str) -> str:
    """A configured metric's value with its own number of decimals (0,65; 88 %)."""
    if value is None:
        return "–"
    return format_decimal(round(value, decimals), format="#,##0" + ("." + "0" * decimals if decimals else ""),
                          locale=BABEL[lang])


def minutes_ago(moment: datetime, now: datetime) -> int:
    """Whole minutes from `moment` to `now` (never negative)."""
    return max(0, int((now - moment).total_seconds() // 60))


def clock_time(moment: datetime, lang: str) -> str:
    """`klo 14.05` (fi), `kl. 14.05` (sv), `14:05` (en)."""
    if lang == "en":
        return format_time(moment, "HH:mm", locale=BABEL[lang])
    prefix = "klo" if lang == "fi" else "kl."
    return f"{prefix} {format_time(moment, 'HH.mm', locale=BABEL[lang])}"


def until_time(moment: datetime, lang: str) -> str:
    """The end of a validity, in the moment's own zone: `klo 12.00`; midnight is the end of
    the day before it, `klo 24.00` (a correction "until the end of the day")."""
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return {"fi": "klo 24.00", "sv": "kl. 24.00", "en": "24:00"}.get(lang, "klo 24.00")
    return clock_time(moment, lang)


def day_name(moment: datetime, lang: str) -> str:
    return format_date(moment, "cccc d.M.yyyy", locale=BABEL[lang])
