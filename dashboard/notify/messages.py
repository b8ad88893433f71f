"""What a notification says, in the channel's language (fi, sv, en)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# one text per rule kind and event; {names} come from the condition's facts
TEXTS: dict[str, dict[str, str]] = {
    "fi": {
        "level": "{unit}: valmiustaso {level} ({reasons})",
        "level.recovery": "{unit}: valmiustaso on taas alle {threshold}",
        "screen_silent": "Näyttö {screen} ({display}) ei ole ilmoittanut itsestään {minutes} minuuttiin",
        "screen_silent.recovery": "Näyttö {screen} ({display}) toimii taas",
        "source_failing": "Tietolähde {source} ei ole toiminut {minutes} minuuttiin",
        "source_failing.recovery": "Tietolähde {source} toimii taas",
        "metric.above": "{unit}: {metric} {key} = {value} (yli {threshold})",
        "metric.below": "{unit}: {metric} {key} = {value} (alle {threshold})",
        "metric.recovery": "{unit}: {metric} {key} on taas rajoissa",
        "action_overdue": "{unit}: toimenpide kuittaamatta {minutes} minuutissa: {action}",
        "action_overdue.recovery": "{unit}: toimenpide kuitattu: {action}",
        "alert": "Ohjaustaulu",
        "repeat": "Muistutus",
        "recovery": "Ohi",
        "since": "alkaen",
    },
    "sv": {
        "level": "{unit}: beredskapsnivå {level} ({reasons})",
        "level.recovery": "{unit}: beredskapsnivån är åter under {threshold}",
        "screen_silent": "Skärmen {screen} ({display}) har inte hörts av på {minutes} minuter",
        "screen_silent.recovery": "Skärmen {screen} ({display}) fungerar igen",
        "source_failing": "Datakällan {source} har inte fungerat på {minutes} minuter",
        "source_failing.recovery": "Datakällan {source} fungerar igen",
        "metric.above": "{unit}: {metric} {key} = {value} (över {threshold})",
        "metric.below": "{unit}: {metric} {key} = {value} (under {threshold})",
        "metric.recovery": "{unit}: {metric} {key} är åter inom gränserna",
        "action_overdue": "{unit}: åtgärden inte kvitterad inom {minutes} minuter: {action}",
        "action_overdue.recovery": "{unit}: åtgärden kvitterad: {action}",
        "alert": "Ohjaustaulu",
        "repeat": "Påminnelse",
        "recovery": "Över",
        "since": "sedan",
    },
    "en": {
        "level": "{unit}: escalation level {level} ({reasons})",
        "level.recovery": "{unit}: escalation level back below {threshold}",
        "screen_silent": "Screen {screen} ({display}) has sent no heartbeat for {minutes} minutes",
        "screen_silent.recovery": "Screen {screen} ({display}) is back",
        "source_failing": "Source {source} has been failing for {minutes} minutes",
        "source_failing.recovery": "Source {source} works again",
        "metric.above": "{unit}: {metric} {key} = {value} (above {threshold})",
        "metric.below": "{unit}: {metric} {key} = {value} (below {threshold})",
        "metric.recovery": "{unit}: {metric} {key} is back within its limit",
        "action_overdue": "{unit}: action not acknowledged within {minutes} minutes: {action}",
        "action_overdue.recovery": "{unit}: action acknowledged: {action}",
        "alert": "Ohjaustaulu",
        "repeat": "Reminder",
        "recovery": "Resolved",
        "since": "since",
    },
}

EVENTS = ("alert", "repeat", "recovery")


@dataclass(frozen=True)
class Message:
    """One notification of one rule's episode: `event` alert, repeat or recovery; `facts`
    the condition's, each language's names already chosen (see Condition.facts)."""

    rule: str
    kind: str  # the rule's `when`
    subject: str  # what the episode is about: a unit, screen, source or unit|metric|key
    event: str
    facts: dict[str, dict[str, Any]]  # language -> facts in it
    began: str  # when the episode began (site time, HH:MM)
    fields: dict[str, str] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        words = TEXTS.get(lang, TEXTS["fi"])
        facts = self.facts.get(lang) or self.facts.get("fi") or {}
        name = self.kind
        if self.event == "recovery":
            name = f"{self.kind}.recovery"
        elif self.kind == "metric":
            name = f"metric.{facts.get('direction', 'above')}"
        body = words[name].format_map(_Blank(facts))
        if self.event == "recovery":
            return body
        return f"{body} – {words['since']} {self.began}"

    def title(self, lang: str) -> str:
        words = TEXTS.get(lang, TEXTS["fi"])
        head = words["alert"] if self.event == "alert" else f"{words['alert']}: {words[self.event]}"
        return head

    def webhook_body(self, lang: str) -> dict[str, Any]:
        """Teams' and Slack's incoming webhooks show `text`; the rest is for other readers."""
        text = self.text(lang)
        return {"text": f"{self.title(lang)}: {text}", "title": self.title(lang), "summary": text,
                "rule": self.rule, "when": self.kind, "event": self.event, "subject": self.subject,
                "began": self.began, "language": lang,
                "fields": [{"name": k, "value": v} for k, v in self.fields.items()]}


class _Blank(dict[str, Any]):
    """A fact a text names but the condition did not give: shown empty, never a KeyError."""

    def __missing__(self, key: str) -> str:
        return ""
