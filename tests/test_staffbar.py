"""The bar on every staff page: the pages each role may open, who is signed in, signing out;
and the start page in Finnish words."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.config import Config
from dashboard.web import access
from dashboard.web.access import Principal
from dashboard.web.accounts import User
from layouts.staffbar import staff_bar


def texts(node: Any) -> list[str]:
    """Every string in a Dash component tree, in order."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, (list, tuple)):
        return [t for n in node for t in texts(n)]
    children = getattr(node, "children", None)
    return texts(children) if children is not None else []


def links(node: Any) -> list[tuple[str, str, bool]]:
    if isinstance(node, (list, tuple)):
        return [x for n in node for x in links(n)]
    out = []
    if getattr(node, "href", None):
        out.append((node.href, node.children, getattr(node, "aria-current", None) == "page"))
    children = getattr(node, "children", None)
    return out + (links(children) if children is not None and not isinstance(children, str) else [])


@pytest.mark.parametrize(("role", "pages"), [
    ("shift_lead", ["/", "/tablet"]),
    ("manager", ["/", "/history", "/history/access"]),
    ("admin", ["/", "/tablet", "/history", "/history/access", "/admin"]),
])
def test_each_role_sees_the_pages_it_may_open_and_who_it_is(role: str, pages: list[str]):
    p = Principal(user=User("hoitaja1", role, ("vastaanotto",)), csrf="c-123")  # type: ignore[arg-type]
    bar = staff_bar(p, "/history")
    assert [href for href, _, _ in links(bar)] == pages
    assert [href for href, _, current in links(bar) if current] == (["/history"] if "/history" in pages else [])
    words = " ".join(texts(bar))
    assert "hoitaja1" in words and "Kirjaudu ulos" in words
    form = bar.children[1].children[-1]
    assert (form.action, form.method) == ("/logout", "post")
    assert form.children[0].value == "c-123"  # the sign-out form carries the session's CSRF token


def test_the_start_page_names_screens_in_finnish_with_the_bar(config: Config):
    from dashboard.web.app import index_page

    token = access.current.set(Principal(user=User("esihenkilo", "manager", ()), csrf="x"))  # type: ignore[arg-type]
    try:
        page = index_page(config)
    finally:
        access.current.reset(token)
    words = " ".join(texts(page))
    assert "(staff)" not in words and "(public)" not in words
    assert "henkilökunnan näyttö" in words and "odotustilan näyttö" in words
    assert ("/history", "Historia", False) in links(page)
    assert not [h for h, _, _ in links(page) if h in ("/tablet", "/admin")]  # a manager's pages only
