"""Import messages for people, in Finnish, Swedish and English."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "too_big": {
        "fi": "Tiedosto on {size} Mt, suurin sallittu koko on {limit} Mt.",
        "sv": "Filen är {size} MB, största tillåtna storlek är {limit} MB.",
        "en": "The file is {size} MB; the limit is {limit} MB.",
    },
    "not_spreadsheet": {
        "fi": "Tiedosto ei ole taulukko (.xlsx tai .ods).",
        "sv": "Filen är inte ett kalkylblad (.xlsx eller .ods).",
        "en": "The file is not a spreadsheet (.xlsx or .ods).",
    },
    "old_xls": {
        "fi": "Vanha .xls-muoto: tallenna tiedosto .xlsx- tai .ods-muodossa.",
        "sv": "Gammalt .xls-format: spara filen som .xlsx eller .ods.",
        "en": "Old .xls format: save the file as .xlsx or .ods.",
    },
    "corrupt": {
        "fi": "Tiedosto on vioittunut tai katkennut, eikä sitä voi lukea ({detail}).",
        "sv": "Filen är skadad eller avkortad och kan inte läsas ({detail}).",
        "en": "The file is corrupt or truncated and cannot be read ({detail}).",
    },
    "password": {
        "fi": "Tiedosto on suojattu salasanalla: poista suojaus ja tallenna uudelleen.",
        "sv": "Filen är lösenordsskyddad: ta bort skyddet och spara igen.",
        "en": "The file is password-protected: remove the protection and save it again.",
    },
    "bomb": {
        "fi": "Tiedosto purkautuisi {size} Mt:ksi (raja {limit} Mt): sitä ei lueta.",
        "sv": "Filen skulle packas upp till {size} MB (gräns {limit} MB): den läses inte.",
        "en": "The file would unpack to {size} MB (limit {limit} MB): it is not read.",
    },
    "no_sheets": {
        "fi": "Tiedostossa ei ole yhtään ohjaustaulun välilehteä ({names}).",
        "sv": "Filen har inga flikar för styrtavlan ({names}).",
        "en": "The file has none of the control board's sheets ({names}).",
    },
    "missing_column": {
        "fi": "Pakollinen sarake puuttuu otsikkoriviltä.",
        "sv": "En obligatorisk kolumn saknas på rubrikraden.",
        "en": "A required column is missing from the header row.",
    },
    "no_header": {
        "fi": "Otsikkoriviä ei löydy: odotettiin sarakkeita {names}.",
        "sv": "Ingen rubrikrad hittades: väntade kolumnerna {names}.",
        "en": "No header row found: expected the columns {names}.",
    },
    "required": {"fi": "Arvo puuttuu.", "sv": "Värde saknas.", "en": "A value is missing."},
    "count": {
        "fi": "Odotettiin kokonaislukua, joka on 0 tai suurempi.",
        "sv": "Väntade ett heltal som är 0 eller större.",
        "en": "Expected a whole number, 0 or more.",
    },
    "number": {
        "fi": "Odotettiin lukua, joka on 0 tai suurempi (desimaalipilkku käy).",
        "sv": "Väntade ett tal som är 0 eller större (decimalkomma går bra).",
        "en": "Expected a number, 0 or more (a decimal comma is fine).",
    },
    "date": {
        "fi": "Odotettiin päivämäärää, esim. 23.11.2026.",
        "sv": "Väntade ett datum, t.ex. 23.11.2026.",
        "en": "Expected a date, e.g. 23.11.2026.",
    },
    "no_such_date": {
        "fi": "Päivämäärää ei ole olemassa.",
        "sv": "Datumet finns inte.",
        "en": "That date does not exist.",
    },
    "time": {
        "fi": "Odotettiin kellonaikaa, esim. 8.30 tai 08:30.",
        "sv": "Väntade ett klockslag, t.ex. 8.30 eller 08:30.",
        "en": "Expected a time of day, e.g. 8.30 or 08:30.",
    },
    "datetime": {
        "fi": "Odotettiin päivämäärää ja kellonaikaa, esim. 23.11.2026 14.00.",
        "sv": "Väntade datum och klockslag, t.ex. 23.11.2026 14.00.",
        "en": "Expected a date and time, e.g. 23.11.2026 14.00.",
    },
    "unit": {
        "fi": "Tuntematon yksikkö: käytä yksikön koodia tai nimeä ({names}).",
        "sv": "Okänd enhet: använd enhetens kod eller namn ({names}).",
        "en": "Unknown unit: use the unit's code or name ({names}).",
    },
    "importance": {
        "fi": "Tärkeys on info, tärkeä tai kiireellinen.",
        "sv": "Prioriteten är info, viktig eller brådskande.",
        "en": "Importance is info, important or urgent.",
    },
    "yesno": {
        "fi": "Odotettiin kyllä tai ei.", "sv": "Väntade ja eller nej.", "en": "Expected yes or no.",
    },
    "too_long": {
        "fi": "Teksti on {n} merkkiä, enintään {limit} sallitaan.",
        "sv": "Texten är {n} tecken, högst {limit} tillåts.",
        "en": "The text is {n} characters; at most {limit} are allowed.",
    },
    "in_use_over_total": {
        "fi": "Käytössä ({in_use}) on enemmän kuin yhteensä ({total}).",
        "sv": "I bruk ({in_use}) är fler än totalt ({total}).",
        "en": "In use ({in_use}) is more than the total ({total}).",
    },
    "ends_before_starts": {
        "fi": "Päättyy ennen kuin alkaa ({starts}).",
        "sv": "Slutar innan den börjar ({starts}).",
        "en": "Ends before it starts ({starts}).",
    },
    "duplicate": {
        "fi": "Sama rivi on jo rivillä {row} ({what}).",
        "sv": "Samma rad finns redan på rad {row} ({what}).",
        "en": "The same row is already on row {row} ({what}).",
    },
    "w_extra_sheet": {
        "fi": "Välilehti {sheet} ei kuulu ohjaustauluun: se ohitettiin.",
        "sv": "Fliken {sheet} hör inte till styrtavlan: den hoppades över.",
        "en": "Sheet {sheet} is not part of the control board: it was skipped.",
    },
    "w_extra_column": {
        "fi": "{sheet}: sarake {column} ohitettiin.",
        "sv": "{sheet}: kolumnen {column} hoppades över.",
        "en": "{sheet}: column {column} was skipped.",
    },
    "w_present_over_planned": {
        "fi": "{sheet} rivi {row}: paikalla {present}, suunniteltu vain {planned} – tarkista.",
        "sv": "{sheet} rad {row}: på plats {present}, planerat bara {planned} – kontrollera.",
        "en": "{sheet} row {row}: {present} present but only {planned} planned – please check.",
    },
    "w_other_day": {
        "fi": "{sheet} rivi {row}: päivä {day} ei ole tänään – ei näytetä seinällä.",
        "sv": "{sheet} rad {row}: dagen {day} är inte idag – visas inte på väggen.",
        "en": "{sheet} row {row}: {day} is not today – not shown on the wall.",
    },
    "w_repeat": {
        "fi": "Sama tiedosto on jo tuotu {at} ({user}): mitään ei muutettu.",
        "sv": "Samma fil har redan importerats {at} ({user}): inget ändrades.",
        "en": "The same file was already imported {at} ({user}): nothing changed.",
    },
}


def msg(lang: str, key: str, **kw: object) -> str:
    table = MESSAGES[key]
    return table.get(lang, table["fi"]).format(**kw)
