"""The bar on every staff page (issue 16): who is signed in, the pages their role may open, and
signing out — so a person finds their way without typing addresses."""

from __future__ import annotations

from dash import dcc, html

from dashboard.access import Principal, may

ROLE_WORDS = {"shift_lead": "vuorovastaava", "manager": "esihenkilö", "admin": "ylläpitäjä"}
# (path, words, the access action that opens it), in the order a person uses them
PAGES = (
    ("/", "Näytöt", "page"),
    ("/tablet", "Vuorovastaavan sivu", "tablet"),
    ("/history", "Historia", "history"),
    ("/history/access", "Hoitoonpääsy", "history"),
    ("/admin", "Ylläpito", "admin"),
)


def staff_bar(p: Principal | None, here: str) -> html.Nav:
    """The bar for the person `p` on the page at path `here` (marked aria-current)."""
    links = [html.A(words, href=path, className="staffbar-link",
                    **({"aria-current": "page"} if path == here else {}))
             for path, words, action in PAGES if may(p, action)]
    who: list[object] = []
    if p is not None and p.user is not None:
        who = [html.Span(p.user.name, className="staffbar-name"), " ",
               html.Span(f"({ROLE_WORDS.get(p.user.role, p.user.role)})", className="staffbar-role")]
    out = html.Form([dcc.Input(type="hidden", name="csrf", value=p.csrf or "") if p else None,
                     html.Button("Kirjaudu ulos", type="submit", className="staffbar-out")],
                    action="/logout", method="post", className="staffbar-form")
    return html.Nav([html.Ul([html.Li(a) for a in links], className="staffbar-pages"),
                     html.Div([*who, out], className="staffbar-who")],
                    className="staffbar", **{"aria-label": "Sivut"})
