"""The bar on every staff page (issue 16): who is signed in, the pages their role may open,
their language and signing out — so a person finds their way without typing addresses."""

from __future__ import annotations

from dash import dcc, html

from dashboard.translate import LANGUAGE_NAMES, N_, _, lang
from dashboard.web.access import Principal, may

ROLE_WORDS = {"shift_lead": N_("vuorovastaava"), "manager": N_("esihenkilö"), "admin": N_("ylläpitäjä")}
# (path, words, the access action that opens it), in the order a person uses them
PAGES = (
    ("/", N_("Näytöt"), "page"),
    ("/tablet", N_("Vuorovastaavan sivu"), "tablet"),
    ("/history", N_("Historia"), "history"),
    ("/history/access", N_("Hoitoonpääsy"), "history"),
    ("/admin", N_("Ylläpito"), "admin"),
)


def staff_bar(p: Principal | None, here: str) -> html.Nav:
    """The bar for the person `p` on the page at path `here` (marked aria-current)."""
    links = [html.A(_(words), href=path, className="staffbar-link",
                    **({"aria-current": "page"} if path == here else {}))
             for path, words, action in PAGES if may(p, action)]
    who: list[object] = []
    if p is not None and p.user is not None:
        who = [html.Span(p.user.name, className="staffbar-name"), " ",
               html.Span(f"({_(ROLE_WORDS.get(p.user.role, p.user.role))})", className="staffbar-role")]
    csrf = dcc.Input(type="hidden", name="csrf", value=p.csrf or "") if p else None
    speaking = lang()
    # each language by its own name and in itself (lang), the one in use pressed
    languages = html.Form([csrf, dcc.Input(type="hidden", name="next", value=here),
                           *[html.Button(name, type="submit", name="lang", value=code, lang=code,
                                         className="staffbar-lang", id=f"staffbar-lang-{code}",
                                         **{"aria-pressed": "true" if code == speaking else "false"})
                             for code, name in LANGUAGE_NAMES.items()]],
                          action="/language", method="post", className="staffbar-form staffbar-langs",
                          **{"aria-label": _("Kieli")})
    out = html.Form([csrf, html.Button(_("Kirjaudu ulos"), type="submit", className="staffbar-out")],
                    action="/logout", method="post", className="staffbar-form")
    return html.Nav([html.Ul([html.Li(a) for a in links], className="staffbar-pages"),
                     html.Div([*who, languages, out], className="staffbar-who")],
                    className="staffbar", **{"aria-label": _("Sivut")})
