"""The staff pages in each person's language (issue 16): every text the pages mark for
translation has a Swedish and an English translation with the same placeholders, and a
request gets the language its person chose, else their browser's, else the site's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dashboard.translate import (
    CATALOGUES,
    LANGUAGES,
    _,
    accepted,
    gettext_in,
    negotiate,
    speaking,
    translations,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("dashboard", "layouts")
PLACEHOLDER = re.compile(r"(?<!\{)\{(\w*)[^{}]*\}")


def marked_texts(folders: list[Path]) -> dict[str, str]:
    """Every text marked with _() or N_() in the Python files under `folders` (Babel's own
    extractor, as `./dev translations` runs it), with where it is."""
    found: dict[str, str] = {}
    for folder in folders:
        for filename, lineno, message, _comments, _context in extract_from_dir(
                folder, method_map=[("**.py", "python")], keywords={"_": None, "N_": None}):
            if isinstance(message, str):
                found.setdefault(message, f"{folder.name}/{filename}:{lineno}")
    return found


def problems(texts: dict[str, str], lang: str, catalogue: Path) -> list[str]:
    """What is wrong with `lang`'s catalogue for `texts`: a text without a translation (or only
    a fuzzy guess), a translation whose placeholders differ, a translation of a text that is gone."""
    with catalogue.open("rb") as f:
        po = read_po(f, locale=lang)
    out = []
    for text, where in sorted(texts.items()):
        m = po.get(text)
        if m is None or not m.string or m.fuzzy:
            out.append(f"{lang}: no translation of {text!r} ({where})")
        elif sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(str(m.string))):
            out.append(f"{lang}: placeholders differ in {text!r} → {m.string!r}")
    out += [f"{lang}: {m.id!r} is translated but no page uses it" for m in po if m.id and m.id not in texts]
    return out


def test_every_marked_text_has_a_swedish_and_an_english_translation():
    texts = marked_texts([ROOT / f for f in SOURCES])
    assert len(texts) > 250  # the staff pages' texts, not an empty extraction
    found = [p for lang in LANGUAGES if lang != "fi"
             for p in problems(texts, lang, CATALOGUES / lang / "LC_MESSAGES" / "messages.po")]
    assert found == [], "run ./dev translations and translate (docs/translations.md):\n" + "\n".join(found)


def texts_hidden_in_f_strings(folder: Path) -> list[str]:
    """`_("…")` written inside an f-string: Babel's extractor (on Python 3.11) does not see
    it, so it would never reach the catalogues and would stay Finnish."""
    import io
    import tokenize

    hidden = []
    for path in sorted(folder.rglob("*.py")):
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        for tok in tokens:
            if tok.type == tokenize.STRING and re.match(r"(?i)r?fr?['\"]", tok.string) and \
                    re.search(r"\b_\(\s*['\"]", tok.string):
                hidden.append(f"{path.relative_to(folder.parent)}:{tok.start[0]}")
    return hidden


def test_no_text_to_translate_hides_inside_an_f_string(tmp_path: Path):
    assert [h for f in SOURCES for h in texts_hidden_in_f_strings(ROOT / f)] == []
    (tmp_path / "page.py").write_text('x = f"<p>{_(\'Piilossa\')}</p>"\n', encoding="utf-8")  # the control
    assert len(texts_hidden_in_f_strings(tmp_path)) == 1


def test_the_check_finds_a_new_text_without_translation(tmp_path: Path):
    """A control: a page that gains a text fails the check until it is translated."""
    (tmp_path / "page.py").write_text('from dashboard.translate import _\n\nTITLE = _("Uusi otsikko {n}", n=1)\n',
                                      encoding="utf-8")
    texts = {**marked_texts([ROOT / f for f in SOURCES]), **marked_texts([tmp_path])}
    found = problems(texts, "sv", CATALOGUES / "sv" / "LC_MESSAGES" / "messages.po")
    assert found == ["sv: no translation of 'Uusi otsikko {n}' (" + tmp_path.name + "/page.py:3)"]


def test_a_text_is_given_in_the_requests_language_with_its_values():
    with speaking("sv"):
        assert _("Kirjaudu ulos") == "Logga ut"
        assert _("{n} riviä", n=12) == "12 rader"
    with speaking("en"):
        assert _("Kirjaudu ulos") == "Sign out"
    with speaking("fi"):
        assert _("{n} riviä", n=12) == "12 riviä"
    assert gettext_in("sv", "Historia") == "Historik"
    assert _("Kirjaudu ulos") == "Kirjaudu ulos"  # outside a request: Finnish


def test_a_fuzzy_guess_is_no_translation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "sv" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#, fuzzy\nmsgid "Historia"\nmsgstr "Histoire"\n\nmsgid "Tila"\nmsgstr "Status"\n', encoding="utf-8")
    monkeypatch.setattr("dashboard.translate.CATALOGUES", tmp_path)
    translations.cache_clear()
    try:
        assert gettext_in("sv", "Historia") == "Historia" and gettext_in("sv", "Tila") == "Status"
    finally:
        translations.cache_clear()


@pytest.mark.parametrize(("header", "wanted"), [
    ("sv-FI,sv;q=0.9,en;q=0.5", ["sv", "en"]),
    ("en-US,en;q=0.9,fi;q=0.8", ["en", "fi"]),
    ("de-DE,de;q=0.9,fi;q=0.3", ["fi"]),
    ("fi;q=0.2, sv;q=0.7", ["sv", "fi"]),  # by weight, not by order
    ("sv;q=0, en", ["en"]),  # q=0: not wanted at all
    ("sv;q=abc, fi", ["fi"]),  # a weight that is no number: not wanted
    ("", []), (None, []), ("*", []),
    (",".join(["de"] * 5000) + ",sv", []),  # a header of thousands of parts: the first 20 only
])
def test_the_browsers_languages_are_read_by_their_weights(header: str | None, wanted: list[str]):
    assert accepted(header) == wanted


def test_the_persons_own_choice_comes_first_then_the_browser_then_the_site():
    assert negotiate("en", "sv-FI,sv", "fi") == "en"
    assert negotiate(None, "sv-FI,sv", "fi") == "sv"
    assert negotiate(None, "de-DE", "sv") == "sv"
    assert negotiate("xx", None, "en") == "en"  # an unknown choice is no choice
