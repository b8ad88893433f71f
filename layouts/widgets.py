"""Dash's own parts in the user's language (issue 16): the words of a drop-down (Dash 4 says
"Search", "Select All", "2 selected" unless told otherwise) and the date picker's settings
(Monday first, dates as the language writes them; the calendar's month and weekday names come from
assets/datepicker-locale.js)."""

from __future__ import annotations

from typing import Any

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
