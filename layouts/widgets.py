"""Dash's own parts in the user's language (issue 16): the words of a drop-down (Dash 4 says
"Search", "Select All", "2 selected" unless told otherwise) and the date picker's settings
(Monday first, dates as the language writes them; the calendar's month and weekday names come from
assets/datepicker-locale.js); and what the staff pages share of their forms: a message back, and
the open escalation actions' callback (the tablet's and the manager's page's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from dash import ctx as trigger
from dash import html

from dashboard.translate import _
from dashboard.web.shiftlead import ACTION_STATES, Refused

DROPDOWN_LABELS = {
    "fi": {"select_all": "Valitse kaikki", "deselect_all": "Poista valinnat", "selected_count": "{num_selected} valittu",
           "search": "Hae", "clear_search": "Tyhjennä haku", "clear_selection": "Tyhjennä valinta",
           "no_options_found": "Ei vaihtoehtoja"},
    "sv": {"select_all": "Välj alla", "deselect_all": "Avmarkera alla", "selected_count": "{num_selected} valda",
           "search": "Sök", "clear_search": "Rensa sökningen", "clear_selection": "Rensa valet",
           "no_options_found": "Inga alternativ"},
    "en": {"select_all": "Select all", "deselect_all": "Deselect all", "selected_count": "{num_selected} selected",
           "search": "Search", "clear_search": "Clear search", "clear_selection": "Clear selection",
           "no_options_found": "No options found"},
}
DATE_FORMAT = {"fi": "D.M.YYYY", "sv": "D.M.YYYY", "en": "YYYY-MM-DD"}  # Finland Swedish as Babel's sv_FI
DATE_PLACEHOLDER = {"fi": ("Alkaa", "Päättyy"), "sv": ("Börjar", "Slutar"), "en": ("Starts", "Ends")}


def dropdown_labels(lang: str) -> dict[str, str]:
    """The `labels` of a dcc.Dropdown in the language (all of them: Dash replaces the whole set)."""
    return dict(DROPDOWN_LABELS.get(lang, DROPDOWN_LABELS["fi"]))


def date_range_props(lang: str) -> dict[str, Any]:
    """Settings of a dcc.DatePickerRange: Monday first, dates as the language writes them."""
    start, end = DATE_PLACEHOLDER.get(lang, DATE_PLACEHOLDER["fi"])
    return {"first_day_of_week": 1, "display_format": DATE_FORMAT.get(lang, DATE_FORMAT["fi"]),
            "month_format": "MMMM YYYY", "show_outside_days": True,
            "start_date_placeholder_text": start, "end_date_placeholder_text": end}


def message(ok: bool, text: str | list[str]) -> html.Div:
    """What the server says back to a form: each line a paragraph, `data-ok` for the tests."""
    lines = text if isinstance(text, list) else [text]
    return html.Div([html.P(line) for line in lines], className=f"msg msg--{'ok' if ok else 'error'}",
                    **{"data-ok": "true" if ok else "false"})


def answer_actions(view: Callable[[], html.Div], shown: Any,
                   acknowledge: Callable[[dict[str, Any], Any], str]) -> tuple[Any, Any]:
    """The body of the open actions' one callback, the tablet's and the manager's page's: a
    refresh (or a changed level) redraws the list only when what it shows has changed, so a
    note being typed is not wiped; a tap acknowledges the action its button names, with the
    notes beside (`acknowledge`: the person's Acknowledger, which checks the claim), and says
    what the server said. Returns the list and the answer."""
    trig = trigger.triggered_id
    if not isinstance(trig, dict):
        drawn = view()
        if drawn.children[0].data == shown:
            raise dash.exceptions.PreventUpdate
        return drawn, dash.no_update
    if not trigger.triggered or not trigger.triggered[0].get("value"):
        raise dash.exceptions.PreventUpdate
    try:
        state = acknowledge(trig, trigger.states_list[0] if trigger.states_list else [])
    except Refused as err:
        return view(), message(False, err.problems)
    return view(), message(True, _("Kuitattu: {state}.", state=_(ACTION_STATES[state])))
