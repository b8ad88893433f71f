from pathlib import Path

import pytest

from dashboard.config import ConfigError, load_config, parse_config
from tests.conftest import EXAMPLE_CONFIG, cli

GOOD = EXAMPLE_CONFIG.read_text(encoding="utf-8")


def problems(text: str) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "site.toml")
    return [(p.file, p.key, p.reason) for p in err.value.problems]


def test_example_config_describes_a_whole_sote_centre():
    cfg = load_config(EXAMPLE_CONFIG)
    codes = {u.code for u in cfg.units}
    assert {"vastaanotto", "suun_th", "laboratorio", "mtpa", "sosiaali"} <= codes
    assert all(u.name and u.name_sv for u in cfg.units)
    modes = [d.mode for d in cfg.displays]
    assert modes.count("staff") >= 2 and modes.count("public") >= 1
    assert {s.feed for s in cfg.sources} == {"queue", "callback", "staffing", "appointments", "flow", "access", "metrics"}
    # access to care: the rules of the law since 2022 for the four services the demo reports
    assert {r.service for r in cfg.access.rules} == {"perusterveydenhuolto", "suun_terveydenhuolto",
                                                    "mielenterveys", "sosiaalipalvelut"}
    assert min(r.valid_from for r in cfg.access.rules).year == 2022


def test_unknown_unit_in_a_display_is_named_with_its_key():
    text = GOOD.replace('units = ["vastaanotto", "laboratorio"]', 'units = ["vastaanotto", "rontgen"]')
    assert ("site.toml", "displays[0].units[1]", "unknown unit 'rontgen'") in problems(text)


def test_missing_source_address_is_refused():
    text = GOOD + '\n[[sources]]\nname = "potilastiedot"\nkind = "fhir"\n'
    n = len(load_config(EXAMPLE_CONFIG).sources)  # the new one comes after the example's own
    assert ("site.toml", f"sources[{n}].address", "a fhir source needs an address") in problems(text)


def test_duplicate_ids_are_refused():
    text = GOOD.replace('id = "johto"', 'id = "aula"')
    assert ("site.toml", "displays[2].id", "duplicate id 'aula'") in problems(text)
    text = GOOD.replace('name = "demo-takaisinsoitot"', 'name = "demo-jonot"')
    assert ("site.toml", "sources[1].name", "duplicate name 'demo-jonot'") in problems(text)


def test_wrong_types_name_the_key():
    text = GOOD.replace("poll_seconds = 5\nunits", 'poll_seconds = "viisi"\nunits', 1)
    found = problems(text)
    assert any(key == "sources[0].poll_seconds" for _f, key, _r in found), found
    text = GOOD.replace('mode = "public"', 'mode = "julkinen"')
    assert any(key == "displays[2].mode" for _f, key, _r in problems(text))


def test_every_problem_is_reported_at_once():
    text = GOOD.replace('id = "johto"', 'id = "aula"').replace(
        'units = ["vastaanotto", "laboratorio"]', 'units = ["x"]'
    )
    keys = {key for _f, key, _r in problems(text)}
    assert {"displays[2].id", "displays[0].units[0]"} <= keys


def test_unknown_keys_and_syntax_errors_are_refused():
    assert any(k == "site.colour" for _f, k, _r in problems(GOOD.replace("[site]\n", "[site]\ncolour = 1\n")))
    assert problems("[site\n")[0][1] == "(syntax)"


def test_check_config_command_names_file_key_and_reason(tmp_path: Path):
    ok = cli("check-config", "--config", str(EXAMPLE_CONFIG))
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('units = ["vastaanotto", "laboratorio"]', 'units = ["rontgen"]'))
    result = cli("check-config", "--config", str(bad))
    assert result.returncode == 2
    assert f"{bad}: displays[0].units[0]: unknown unit 'rontgen'" in result.stderr


def test_serve_refuses_to_start_on_bad_configuration(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('kind = "demo"\nfeed = "queue"', 'kind = "queue"\nfeed = "queue"'))
    result = cli("serve", "--config", str(bad), "--data-dir", str(tmp_path / "d"), timeout=30)
    assert result.returncode == 2
    assert "sources[0].address: a queue source needs an address" in result.stderr


def test_missing_file_is_named(tmp_path: Path):
    result = cli("check-config", "--config", str(tmp_path / "nothing.toml"))
    assert result.returncode == 2
    assert "nothing.toml: (file)" in result.stderr


def test_a_display_may_take_turns_in_languages_and_names_its_night():
    cfg = load_config(EXAMPLE_CONFIG)
    aula = cfg.display("aula")
    assert aula.languages == ["fi", "sv"] and aula.lang == "fi" and aula.night == "off"
    assert aula.title_in("sv") == "Välkommen" and aula.title_in("fi") == "Tervetuloa"
    kaytava = cfg.display("vastaanotto-kaytava")
    assert kaytava.languages == ["fi"] and kaytava.night == "dim"
    assert cfg.site.names_sv["näytteenotto"] == "Provtagning"


def test_bad_display_languages_and_night_are_named():
    text = GOOD.replace('language = ["fi", "sv"]', 'language = ["fi", "fi"]')
    assert ("site.toml", "displays[2].language", "give one language or several different ones") in problems(text)
    text = GOOD.replace('language = ["fi", "sv"]', 'language = ["fi", "de"]')
    assert any(key.startswith("displays[2].language") for _f, key, _r in problems(text))
    text = GOOD.replace('night = "off"', 'night = "pois"')
    assert any(key == "displays[2].night" for _f, key, _r in problems(text))
    text = GOOD.replace("reload_hour = 4", "reload_hour = 25")
    assert any(key == "site.reload_hour" for _f, key, _r in problems(text))


NOTIFY = """
[[escalation.actions]]
id = "tiedota-tiimi"
level = 2
units = ["vastaanotto", "ei-tallaista"]
text = "Toinen samalla tunnuksella"

[[notify.channels]]
name = "posti"
kind = "email"
smtp_host = "smtp.example.fi"
to_env = "OHJAUSTAULU_TEST_UNSET_TO"

[[notify.channels]]
name = "teams"
kind = "webhook"

[[notify.rules]]
id = "taso"
when = "level"
channels = ["posti", "tekstari"]
units = ["vastaanotto", "olematon"]

[[notify.rules]]
id = "naytto"
when = "screen_silent"
channels = ["teams"]
displays = ["ei-naytto"]

[[notify.rules]]
id = "lahde"
when = "source_failing"
minutes = 10
channels = ["teams"]
sources = ["ei-lahde"]

[[notify.rules]]
id = "mittari"
when = "metric"
metric = "ward.ei_ole"
above = 1
below = 0
channels = ["teams"]
"""


def test_escalation_actions_and_notifications_are_checked_by_key_and_reason(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OHJAUSTAULU_TEST_UNSET_TO", raising=False)
    found = {(k, r) for _f, k, r in problems(GOOD + NOTIFY)}
    for want in [
        ("escalation.actions[4].id", "duplicate id 'tiedota-tiimi'"),
        ("escalation.actions[4].units[1]", "unknown unit 'ei-tallaista'"),
        ("notify.channels[0].sender", "an e-mail channel needs sender"),
        ("notify.channels[0].to_env", "environment variable OHJAUSTAULU_TEST_UNSET_TO is not set"),
        ("notify.channels[1].url_env", "a webhook channel needs url_env"),
        ("notify.rules[0].channels[1]", "unknown channel 'tekstari'"),
        ("notify.rules[0].units[1]", "unknown unit 'olematon'"),
        ("notify.rules[0].level", "a level rule needs the level (2–4) at or above which it notifies"),
        ("notify.rules[1].displays[0]", "unknown display 'ei-naytto'"),
        ("notify.rules[1].minutes", "a screen_silent rule needs minutes"),
        ("notify.rules[2].sources[0]", "unknown source 'ei-lahde'"),
        ("notify.rules[3].metric", "a metric rule needs a known metric, not 'ward.ei_ole'"),
        ("notify.rules[3]", "give exactly one of above or below"),
    ]:
        assert want in found, (want, sorted(found))
    # the same, right: nothing to say
    monkeypatch.setenv("OHJAUSTAULU_TEST_UNSET_TO", "a@example.fi")
    monkeypatch.setenv("OHJAUSTAULU_TEST_HOOK", "https://hooks.example/x")
    good = (NOTIFY.replace('id = "tiedota-tiimi"', 'id = "oma-toimenpide"')
            .replace(', "ei-tallaista"', "").replace('smtp_host = "smtp.example.fi"',
                                                    'smtp_host = "smtp.example.fi"\nsender = "o@example.fi"')
            .replace('kind = "webhook"', 'kind = "webhook"\nurl_env = "OHJAUSTAULU_TEST_HOOK"')
            .replace(', "tekstari"', "").replace(', "olematon"', "").replace('when = "level"', 'when = "level"\nlevel = 3')
            .replace('displays = ["ei-naytto"]', 'displays = ["johto"]\nminutes = 5')
            .replace('sources = ["ei-lahde"]', 'sources = ["demo-jonot"]').replace("ward.ei_ole", "ward.occupancy_pct")
            .replace("below = 0\n", ""))
    assert parse_config(GOOD + good, "site.toml").notify.rules[3].metric == "ward.occupancy_pct"
