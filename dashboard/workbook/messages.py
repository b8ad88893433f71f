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
    "bomb_part": {
        "fi": "Tiedoston osa {part} purkautuisi {size} Mt:ksi (raja {limit} Mt): sitä ei lueta.",
        "sv": "Delen {part} i filen skulle packas upp till {size} MB (gräns {limit} MB): filen läses inte.",
        "en": "Part {part} of the file would unpack to {size} MB (limit {limit} MB): the file is not read.",
    },
    "bomb_ratio": {
        "fi": "Tiedoston osa {part} on pakattu {ratio}-kertaisesti (raja {limit}): se on pakkauspommi, ei työkirja.",
        "sv": "Delen {part} i filen är komprimerad {ratio} gånger (gräns {limit}): den är en zip-bomb, ingen arbetsbok.",
        "en": "Part {part} of the file is compressed {ratio} times (limit {limit}): it is a zip bomb, not a workbook.",
    },
    # -- refused before any reader sees the file (guard.py) or when reading had to stop -------
    "too_many_members": {
        "fi": "Tiedostossa on {n} osaa (raja {limit}): se ei ole tavallinen työkirja, eikä sitä lueta.",
        "sv": "Filen har {n} delar (gräns {limit}): den är ingen vanlig arbetsbok och läses inte.",
        "en": "The file has {n} parts (limit {limit}): it is not an ordinary workbook and is not read.",
    },
    "member_name": {
        "fi": "Tiedoston sisällä on outo polkunimi ”{name}”: tiedostoa ei lueta.",
        "sv": "Filen innehåller ett konstigt sökvägsnamn ”{name}”: filen läses inte.",
        "en": "The file contains an odd path name \"{name}\": it is not read.",
    },
    "xml_entities": {
        "fi": "Tiedoston osassa {part} on DOCTYPE- tai ENTITY-määrittely: tiedostoa ei lueta.",
        "sv": "Delen {part} i filen har en DOCTYPE- eller ENTITY-deklaration: filen läses inte.",
        "en": "Part {part} of the file has a DOCTYPE or ENTITY declaration: the file is not read.",
    },
    "too_many_sheets": {
        "fi": "Työkirjassa on yli {limit} välilehteä: sitä ei lueta.",
        "sv": "Arbetsboken har fler än {limit} flikar: den läses inte.",
        "en": "The workbook has more than {limit} sheets: it is not read.",
    },
    "too_many_rows": {
        "fi": "Välilehden {sheet} solu {cell} on rivillä {row}: enintään {limit} riviä sallitaan. "
              "Poista tai tyhjennä rivit sen alapuolelta ja tallenna uudelleen.",
        "sv": "Cellen {cell} på fliken {sheet} är på rad {row}: högst {limit} rader tillåts. "
              "Ta bort eller töm raderna nedanför och spara igen.",
        "en": "Cell {cell} on sheet {sheet} is on row {row}: at most {limit} rows are allowed. "
              "Delete or clear the rows below and save again.",
    },
    "too_many_columns": {
        "fi": "Välilehden {sheet} solu {cell} on sarakkeessa {column}: enintään {limit} saraketta "
              "(viimeinen {last}) sallitaan. Poista tai tyhjennä sarakkeet sen oikealta puolelta ja tallenna uudelleen.",
        "sv": "Cellen {cell} på fliken {sheet} är i kolumn {column}: högst {limit} kolumner "
              "(den sista {last}) tillåts. Ta bort eller töm kolumnerna till höger och spara igen.",
        "en": "Cell {cell} on sheet {sheet} is in column {column}: at most {limit} columns "
              "(the last is {last}) are allowed. Delete or clear the columns to its right and save again.",
    },
    "dimension": {
        "fi": "Välilehti {sheet} ilmoittaa alueekseen {ref}: enintään {rows} riviä ja {columns} saraketta "
              "(A1:{last}) sallitaan.",
        "sv": "Fliken {sheet} anger sitt område som {ref}: högst {rows} rader och {columns} kolumner "
              "(A1:{last}) tillåts.",
        "en": "Sheet {sheet} declares its range as {ref}: at most {rows} rows and {columns} columns "
              "(A1:{last}) are allowed.",
    },
    "too_many_cells": {
        "fi": "Välilehdillä olisi yhteensä {n} solua (raja {limit}): työkirjaa ei lueta.",
        "sv": "Flikarna skulle ha sammanlagt {n} celler (gräns {limit}): arbetsboken läses inte.",
        "en": "The sheets would hold {n} cells in all (limit {limit}): the workbook is not read.",
    },
    "long_repeat": {
        "fi": "Välilehden {sheet} solussa {cell} on {n} toistettua välilyöntiä (raja {limit}): työkirjaa ei lueta.",
        "sv": "Cellen {cell} på fliken {sheet} har {n} upprepade mellanslag (gräns {limit}): arbetsboken läses inte.",
        "en": "Cell {cell} on sheet {sheet} repeats a space {n} times (limit {limit}): the workbook is not read.",
    },
    "bad_reference": {
        "fi": "Välilehdellä {sheet} on virheellinen soluviittaus tai toistomäärä ”{value}”: työkirjaa ei lueta.",
        "sv": "Fliken {sheet} har en felaktig cellreferens eller upprepning ”{value}”: arbetsboken läses inte.",
        "en": "Sheet {sheet} has a malformed cell reference or repeat count \"{value}\": the workbook is not read.",
    },
    "read_timeout": {
        "fi": "Työkirjan lukeminen keskeytyi: se kesti yli {seconds} sekuntia.",
        "sv": "Läsningen av arbetsboken avbröts: den tog över {seconds} sekunder.",
        "en": "Reading the workbook was interrupted: it took over {seconds} seconds.",
    },
    "read_memory": {
        "fi": "Työkirjan lukeminen keskeytyi: se olisi vienyt yli {limit} Mt muistia.",
        "sv": "Läsningen av arbetsboken avbröts: den skulle ha krävt över {limit} MB minne.",
        "en": "Reading the workbook was interrupted: it would have taken over {limit} MB of memory.",
    },
    "read_crashed": {
        "fi": "Työkirjan lukeminen keskeytyi: lukija pysähtyi odottamatta ({detail}).",
        "sv": "Läsningen av arbetsboken avbröts: läsaren stannade oväntat ({detail}).",
        "en": "Reading the workbook was interrupted: the reader stopped unexpectedly ({detail}).",
    },
    "not_your_unit": {
        "fi": "Yksikkö {unit} ei ole vastuullasi (omat yksikkösi: {names}).",
        "sv": "Enheten {unit} är inte ditt ansvar (dina enheter: {names}).",
        "en": "Unit {unit} is not yours to report for (your units: {names}).",
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
    "w_shadowed": {
        "fi": "{sheet} rivi {row}: {what} {value} ei näy seinällä: {system} tuore arvo {shown} ({at}) on voimassa. "
              "Korjaa tabletilla, jos se on väärä.",
        "sv": "{sheet} rad {row}: {what} {value} visas inte på väggen: {system} färska värde {shown} ({at}) gäller. "
              "Korrigera på surfplattan om det är fel.",
        "en": "{sheet} row {row}: {what} {value} will not show on the wall: the {system} fresh value {shown} "
              "({at}) stands. Correct it on the tablet if it is wrong.",
    },
    "w_corrected": {
        "fi": "{sheet} rivi {row}: {what} {value} ei näy seinällä: tabletilla tehty korjaus {shown} ({by}, {at}) "
              "on voimassa {until} asti. Peru korjaus tabletilla, jos työkirjan arvo on oikea.",
        "sv": "{sheet} rad {row}: {what} {value} visas inte på väggen: korrigeringen {shown} på surfplattan "
              "({by}, {at}) gäller till {until}. Återkalla korrigeringen på surfplattan om arbetsbokens värde är rätt.",
        "en": "{sheet} row {row}: {what} {value} will not show on the wall: the tablet's correction {shown} "
              "({by}, {at}) stands until {until}. Withdraw the correction on the tablet if the workbook is right.",
    },
    # the feed behind a figure, as the warnings above name it (genitive in Finnish and Swedish)
    "system_staff": {"fi": "henkilöstöjärjestelmän", "sv": "personalsystemets", "en": "staffing system's"},
    "system_appointments": {"fi": "ajanvarausjärjestelmän", "sv": "tidsbokningssystemets",
                            "en": "appointment system's"},
    "system_queue": {"fi": "jonojärjestelmän", "sv": "kösystemets", "en": "queue system's"},
    "system_capacity": {"fi": "resurssijärjestelmän", "sv": "resurssystemets", "en": "resource system's"},
    "w_repeat": {
        "fi": "Sama tiedosto on jo tuotu {at} ({user}): mitään ei muutettu.",
        "sv": "Samma fil har redan importerats {at} ({user}): inget ändrades.",
        "en": "The same file was already imported {at} ({user}): nothing changed.",
    },
}


def msg(lang: str, key: str, **kw: object) -> str:
    table = MESSAGES[key]
    return table.get(lang, table["fi"]).format(**kw)
