"""The documentation stays true: every setting is documented, the README names the two
commands exactly as .ci/run and the dev script run them."""

import re

from dashboard.config import (
    AccessRule,
    AccessSettings,
    AreaSite,
    AuthSettings,
    CardSpec,
    Config,
    Display,
    Escalation,
    EscalationAction,
    HistorySettings,
    MetricSpec,
    NotifyChannel,
    NotifyRule,
    NotifySettings,
    OidcSettings,
    PageSpec,
    Rule,
    Site,
    Source,
    Unit,
)
from tests.conftest import ROOT

CONFIG_DOC = (ROOT / "config" / "README.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def documented_keys(section: str) -> set[str]:
    body = CONFIG_DOC.split(f"## `{section}`", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)`", body, re.M)) | set(
        k for pair in re.findall(r"^\| `([a-z_]+)` / `([a-z_]+)`", body, re.M) for k in pair
    )


def test_every_setting_is_documented():
    for section, model in [("[site]", Site), ("[[sites]]", AreaSite), ("[[units]]", Unit), ("[[displays]]", Display),
                           ("[[sources]]", Source), ("[escalation]", Rule), ("[history]", HistorySettings),
                           ("[auth.oidc]", OidcSettings), ("[[access.rules]]", AccessRule),
                           ("[access]", AccessSettings), ("[[metrics]]", MetricSpec),
                           ("[[cards]] / [[pages]]", CardSpec), ("[[cards]] / [[pages]]", PageSpec),
                           ("[[escalation.actions]]", EscalationAction), ("[[notify.channels]]", NotifyChannel),
                           ("[[notify.rules]]", NotifyRule)]:
        keys = {f.alias or name for name, f in model.model_fields.items()}  # as written in the file
        missing = keys - documented_keys(section)
        assert not missing, f"{section}: undocumented {sorted(missing)}"
    assert set(Escalation.model_fields) == {"rules", "actions"}
    assert set(NotifySettings.model_fields) == {"channels", "rules"} and set(AuthSettings.model_fields) == {"oidc"}
    assert set(Config.model_fields) - {"path"} == {"site", "sites", "units", "displays", "sources", "escalation", "history",
                                                   "auth", "access", "metrics", "cards", "pages", "notify"}


def test_every_environment_variable_is_documented():
    used = set()
    for path in list((ROOT / "dashboard").rglob("*.py")):
        used |= set(re.findall(r'environ(?:\.get)?\(\s*"([A-Z_]+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'environ\["([A-Z_]+)"\]', path.read_text(encoding="utf-8")))
    assert used, "found no environment variables: the pattern is wrong"
    for name in used:
        assert f"`{name}`" in CONFIG_DOC, name


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    assert "./dev demo" in README and "./dev test" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^\./dev test$", ci, re.M)


def test_readme_screenshots_exist():
    images = re.findall(r"\]\((docs/[^)]+\.png)\)", README)
    assert images
    for image in images:
        assert (ROOT / image).is_file(), image
