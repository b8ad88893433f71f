"""Import messages for people, in Finnish, Swedish and English (the catalogues)."""

from __future__ import annotations

from dashboard.translate import N_, gettext_in

# Each message in Finnish; msg() gives it in the person's language from the gettext
# catalogues (dashboard/locale), where a translator edits the Swedish and English.
MESSAGES: dict[str, str] = {
    "too_big": N_("Tiedosto on {size} Mt, suurin sallittu koko on {limit} Mt."),
    "not_spreadsheet": N_("Tiedosto ei ole taulukko (.xlsx tai .ods)."),
    "old_xls": N_("Vanha .xls-muoto: tallenna tiedosto .xlsx- tai .ods-muodossa."),
    "corrupt": N_("Tiedosto on vioittunut tai katkennut, eikä sitä voi lukea ({detail})."),
    "password": N_("Tiedosto on suojattu salasanalla: poista suojaus ja tallenna uudelleen."),
    "bomb": N_("Tiedosto purkautuisi {size} Mt:ksi (raja {limit} Mt): sitä ei lueta."),
    "bomb_part": N_("Tiedoston osa {part} purkautuisi {size} Mt:ksi (raja {limit} Mt): sitä ei lueta."),
    "bomb_ratio": N_("Tiedoston osa {part} on pakattu {ratio}-kertaisesti (raja {limit}): se on pakkauspommi, ei työkirja."),
    # -- refused before any reader sees the file (guard.py) or when reading had to stop -------
    "too_many_members": N_("Tiedostossa on {n} osaa (raja {limit}): se ei ole tavallinen työkirja, eikä sitä lueta."),
    "member_name": N_("Tiedoston sisällä on outo polkunimi ”{name}”: tiedostoa ei lueta."),
    "xml_entities": N_("Tiedoston osassa {part} on DOCTYPE- tai ENTITY-määrittely: tiedostoa ei lueta."),
    "too_many_sheets": N_("Työkirjassa on yli {limit} välilehteä: sitä ei lueta."),
    "too_many_rows": N_("Välilehden {sheet} solu {cell} on rivillä {row}: enintään {limit} riviä sallitaan. Poista tai tyhjennä rivit sen alapuolelta ja tallenna uudelleen."),
    "too_many_columns": N_("Välilehden {sheet} solu {cell} on sarakkeessa {column}: enintään {limit} saraketta (viimeinen {last}) sallitaan. Poista tai tyhjennä sarakkeet sen oikealta puolelta ja tallenna uudelleen."),
    "dimension": N_("Välilehti {sheet} ilmoittaa alueekseen {ref}: enintään {rows} riviä ja {columns} saraketta (A1:{last}) sallitaan."),
    "too_many_cells": N_("Välilehdillä olisi yhteensä {n} solua (raja {limit}): työkirjaa ei lueta."),
    "long_repeat": N_("Välilehden {sheet} solussa {cell} on {n} toistettua välilyöntiä (raja {limit}): työkirjaa ei lueta."),
    "bad_reference": N_("Välilehdellä {sheet} on virheellinen soluviittaus tai toistomäärä ”{value}”: työkirjaa ei lueta."),
    "read_timeout": N_("Työkirjan lukeminen keskeytyi: se kesti yli {seconds} sekuntia."),
    "read_memory": N_("Työkirjan lukeminen keskeytyi: se olisi vienyt yli {limit} Mt muistia."),
    "read_crashed": N_("Työkirjan lukeminen keskeytyi: lukija pysähtyi odottamatta ({detail})."),
    "not_your_unit": N_("Yksikkö {unit} ei ole vastuullasi (omat yksikkösi: {names})."),
    "no_sheets": N_("Tiedostossa ei ole yhtään ohjaustaulun välilehteä ({names})."),
    "missing_column": N_("Pakollinen sarake puuttuu otsikkoriviltä."),
    "no_header": N_("Otsikkoriviä ei löydy: odotettiin sarakkeita {names}."),
    "required": N_("Arvo puuttuu."),
    "count": N_("Odotettiin kokonaislukua, joka on 0 tai suurempi."),
    "number": N_("Odotettiin lukua, joka on 0 tai suurempi (desimaalipilkku käy)."),
    "date": N_("Odotettiin päivämäärää, esim. 23.11.2026."),
    "no_such_date": N_("Päivämäärää ei ole olemassa."),
    "time": N_("Odotettiin kellonaikaa, esim. 8.30 tai 08:30."),
    "datetime": N_("Odotettiin päivämäärää ja kellonaikaa, esim. 23.11.2026 14.00."),
    "unit": N_("Tuntematon yksikkö: käytä yksikön koodia tai nimeä ({names})."),
    "importance": N_("Tärkeys on info, tärkeä tai kiireellinen."),
    "yesno": N_("Odotettiin kyllä tai ei."),
    "too_long": N_("Teksti on {n} merkkiä, enintään {limit} sallitaan."),
    "day_or_time": N_("Odotettiin päivämäärää tai kellonaikaa, esim. 23.11.2026, 8.30 tai 23.11.2026 8.30."),
    # the centre's own metrics (sheet Muut mittarit)
    "metric": N_("Tuntematon mittari: käytä mittarin nimeä tai tunnusta ({names})."),
    "derived_metric": N_("{metric} lasketaan muista mittareista ({inputs}), eikä sitä kirjoiteta: kirjoita niiden arvot."),
    "builtin_metric": N_("Vakiomittari: kirjoita se välilehdelle {sheet}, sarakkeeseen {column}."),
    "builtin_no_sheet": N_("Vakiomittari, joka tulee järjestelmistä: sitä ei kirjoiteta työkirjaan (korjaa tarvittaessa tabletilla)."),
    "key_required": N_("Tarkenne puuttuu: kirjoita mittarin {metric} {what}."),
    "key_not_taken": N_("Mittarilla {metric} ei ole tarkennetta: jätä sarake tyhjäksi."),
    "in_use_over_total": N_("Käytössä ({in_use}) on enemmän kuin yhteensä ({total})."),
    "ends_before_starts": N_("Päättyy ennen kuin alkaa ({starts})."),
    "duplicate": N_("Sama rivi on jo rivillä {row} ({what})."),
    "w_extra_sheet": N_("Välilehti {sheet} ei kuulu ohjaustauluun: se ohitettiin."),
    "w_extra_column": N_("{sheet}: sarake {column} ohitettiin."),
    "w_present_over_planned": N_("{sheet} rivi {row}: paikalla {present}, suunniteltu vain {planned} – tarkista."),
    "w_other_day": N_("{sheet} rivi {row}: päivä {day} ei ole tänään – ei näytetä seinällä."),
    "w_blank_day": N_("{sheet} rivi {row}: päivä puuttuu – luettu tämän päivän ({day}) tiedoksi."),
    "w_shadowed": N_("{sheet} rivi {row}: {what} {value} ei näy seinällä: {system} tuore arvo {shown} ({at}) on voimassa. Korjaa tabletilla, jos se on väärä."),
    "w_corrected": N_("{sheet} rivi {row}: {what} {value} ei näy seinällä: tabletilla tehty korjaus {shown} ({by}, {at}) on voimassa {until} asti. Peru korjaus tabletilla, jos työkirjan arvo on oikea."),
    # the feed behind a figure, as the warnings above name it (genitive in Finnish and Swedish)
    "system_staff": N_("henkilöstöjärjestelmän"),
    "system_appointments": N_("ajanvarausjärjestelmän"),
    "system_queue": N_("jonojärjestelmän"),
    "system_capacity": N_("resurssijärjestelmän"),
    "system_metrics": N_("mittarijärjestelmän"),
    "w_repeat": N_("Sama tiedosto on jo tuotu {at} ({user}): mitään ei muutettu."),
}


def msg(lang: str, key: str, **kw: object) -> str:
    return gettext_in(lang, MESSAGES[key], **kw)
