"""The staff pages' words in each person's own language (issue 16).

The pages are written in Finnish, and `_("…")` gives a text in the language of the request:
the person's own choice (kept with their account), else the first of Finnish, Swedish and
English their browser asks for, else the site's language. The Swedish and English texts are
gettext catalogues (`dashboard/locale/<lang>/LC_MESSAGES/messages.po`) that a translator
edits with any PO editor; they are read with Babel and compiled in memory on first use, so
there is no build step and no compiled file to forget. `tests/test_translations.py` fails
when a text of the pages has no translation (docs/translations.md: how to add one).

A text with a value in it names the value: `_("{n} riviä", n=len(rows))`, so that a
translation may put it where its language wants it.

The wall displays' texts are `dashboard.i18n.TEXT` (a screen speaks the languages of its
display, not of a person).
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("fi", "sv", "en")
# each language by its own name, as a person looks for it
LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
CATALOGUES = Path(__file__).resolve().parent / "locale"

current: ContextVar[str] = ContextVar("ohjaustaulu_language", default="fi")


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of `lang` (Finnish, the pages' own language, needs none)."""
    if lang == "fi" or lang not in LANGUAGES:
        return gettext.NullTranslations()
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)  # a fuzzy guess is no translation
    compiled.seek(0)
    return Translations(compiled)


def _(message: str, **values: object) -> str:
    """`message` in the request's language, with `values` put in their places."""
    text = translations(current.get()).gettext(message)
    return text.format(**values) if values else text


def gettext_in(lang: str, message: str, **values: object) -> str:
    """`message` in `lang` (an export made in a language other than the request's)."""
    text = translations(lang).gettext(message)
    return text.format(**values) if values else text


def N_(message: str) -> str:
    """Marks a text to translate where it is defined (a table of words); `_` translates it
    where it is shown."""
    return message


def lang() -> str:
    """The request's language."""
    return current.get()


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Run a block in `language` (a test, a command, a request)."""
    token = current.set(language if language in LANGUAGES else "fi")
    try:
        yield
    finally:
        current.reset(token)


def accepted(header: str | None) -> list[str]:
    """The languages of an Accept-Language header that we speak, most wanted first
    ("sv-FI,sv;q=0.9,en;q=0.5" → ["sv", "en"])."""
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")[:20]):  # a header of a thousand parts is a lie
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().split("-", 1)[0].lower()
        if primary in LANGUAGES and q > 0:
            wanted.append((-q, i, primary))
    out: list[str] = []
    for _q, _i, primary in sorted(wanted):
        if primary not in out:
            out.append(primary)
    return out


def negotiate(chosen: str | None, accept_language: str | None, default: str) -> str:
    """The person's own choice; else the first language of theirs their browser asks for;
    else the site's language."""
    if chosen in LANGUAGES:
        return chosen  # type: ignore[return-value]
    asked = accepted(accept_language)
    if asked:
        return asked[0]
    return default if default in LANGUAGES else "fi"
