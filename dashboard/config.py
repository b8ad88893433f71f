"""The configuration file of PRODUCT.md: one TOML file, validated whole at start-up.

Every problem is reported at once, each with the file, the key (as a dotted path such as
``displays[2].units``) and the reason, so that the IT team can mend them in one go.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from dashboard.domain import metrics as metric_defs
from dashboard.domain.clock import is_working_day
from dashboard.domain.expressions import Expression, ExpressionError, order, parse
from dashboard.domain.metrics import CATALOGUE, Metric
from dashboard.workbook.schema import fold

if TYPE_CHECKING:
    from dashboard.domain.carecases import RuleVersion

DEFAULT_CONFIG = "config/ohjaustaulu.toml"
SOURCE_KINDS = ("demo", "workbook", "fhir", "staffing", "queue", "callback", "access", "metrics")
DEMO_FEEDS = ("queue", "callback", "staffing", "appointments", "flow", "access", "metrics")
PAGES = ("overview", "queues", "capacity", "flow", "access", "region")
Lang = Literal["fi", "sv", "en"]
Code = Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9_-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Site(_Strict):
    """The installation: its settings, and its one centre when no [[sites]] are given."""

    # the centre's code when this is a one-site area (units and rows name it)
    code: Code = "keskus"
    name: str = "Sote-keskus"
    name_sv: str | None = None
    timezone: str = "Europe/Helsinki"
    language: Literal["fi", "sv", "en"] = "fi"
    opening_hours: list[int] = Field(default=[8, 16], min_length=2, max_length=2)
    key_prefix: str = "ohjaustaulu:"
    updates: Literal["push", "poll"] = "poll"
    reload_hour: int = Field(default=4, ge=0, le=23)
    # who may read /metrics: addresses or networks (default: this host only), and/or the
    # bearer token in the environment variable named here
    metrics_allow: list[str] = ["127.0.0.1/32", "::1/128"]
    metrics_token_env: str | None = None
    # Swedish names of queues, professions and resources, for bilingual screens
    names_sv: dict[str, str] = {}

    @field_validator("names_sv")
    @classmethod
    def _normalised_keys(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.strip().lower(): v for k, v in value.items()}

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"metrics_allow: {item!r} is not an address or network") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _known_zone(value)


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


class AreaSite(_Strict):
    """One sote-centre of a wellbeing area ([[sites]]): its units name it by its code."""

    code: Code
    name: str = Field(min_length=1)
    name_sv: str | None = None
    address: str = ""
    # [start, end] clock hours: its units' default (else [site] opening_hours)
    opening_hours: list[int] | None = None
    # its IANA time zone (else [site] timezone): its units' days, hours and clocks
    timezone: str | None = None
    # the language its screens and pages start in (else [site] language)
    language: Lang | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _known_zone(value)

    def name_in(self, lang: str) -> str:
        return self.name_sv if lang == "sv" and self.name_sv else self.name


class Unit(_Strict):
    code: Code
    name: str = Field(min_length=1)
    name_sv: str = Field(min_length=1)
    # the code of its site ([[sites]]); may be left out in a one-site area
    site: str | None = None
    # [start, end] clock hours (default: the site's), or "always": open around the clock
    opening_hours: list[int] | Literal["always"] | None = None
    # open on working days only (Mon–Fri less Finnish public holidays), or every day;
    # a unit open "always" is open every day
    open_days: Literal["working", "every"] = "working"
    # other names people write for it in a workbook ("labra")
    aliases: list[str] = []

    def name_in(self, lang: str) -> str:
        """The unit's name as people of `lang` read it (its Swedish name in Swedish)."""
        return self.name_sv if lang == "sv" else self.name


@dataclass(frozen=True)
class Hours:
    """A unit's opening hours: from `start` to `end` o'clock (0–24), on working days only
    unless `every_day`."""

    start: int
    end: int
    every_day: bool

    @property
    def around_the_clock(self) -> bool:
        return self.start == 0 and self.end == 24 and self.every_day

    def spec(self) -> str:
        """A stable text of the hours ("8-16/working", "0-24/every"): rollups record it."""
        return f"{self.start}-{self.end}/{'every' if self.every_day else 'working'}"

    @classmethod
    def parse(cls, spec: str) -> Hours:
        """The hours of a `spec()` text."""
        span, _, days = spec.partition("/")
        start, _, end = span.partition("-")
        return cls(int(start), int(end), days == "every")

    def open_on(self, day: date) -> bool:
        """Whether the unit opens on `day` at all (a working day, or any day)."""
        return self.every_day or is_working_day(day)

    def text(self) -> str:
        """For people: "8–16", "0–24"."""
        return f"{self.start}\u2013{self.end}"


@dataclass(frozen=True)
class Zones:
    """Every unit's time zone: the installation's (`default`, [site] timezone) unless its
    site names another (`units`: only those that differ). The rollups record its `spec()`
    so that every process computes the same local days."""

    default: str
    units: tuple[tuple[str, str], ...] = ()

    def spec(self) -> dict[str, str]:
        """{"*": the default zone, unit: its zone where it differs}."""
        return {"*": self.default, **dict(self.units)}

    @classmethod
    def parse(cls, spec: dict[str, str]) -> Zones:
        default = spec.get("*", "Europe/Helsinki")
        return cls(default, tuple(sorted((u, z) for u, z in spec.items() if u != "*" and z != default)))

    @classmethod
    def one(cls, tz: ZoneInfo | Zones) -> Zones:
        """`tz` as zones: one zone for every unit."""
        return tz if isinstance(tz, Zones) else cls(tz.key)

    def groups(self) -> dict[str, list[str]]:
        """The units of each zone other than the default, by zone name."""
        out: dict[str, list[str]] = {}
        for unit, zone in self.units:
            out.setdefault(zone, []).append(unit)
        return out


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = ZoneInfo(name)
    return zone


class Display(_Strict):
    id: Code
    title: str = Field(min_length=1)
    # the units it shows; or `sites`: every unit of those sites (a region display)
    units: list[str] = []
    sites: list[str] = []
    mode: Literal["staff", "public"] = "staff"
    # built-in pages (overview, queues, capacity, flow, access, region) or [[pages]] ids
    pages: list[str] = ["overview"]
    rotate_seconds: int = Field(default=20, ge=5)
    # one language, or several that the screen takes turns in (a bilingual waiting room)
    language: Lang | list[Lang] = "fi"
    title_sv: str | None = None
    # outside opening hours: "dim" (clock and notices, dimmed), "off" (black) or "on"
    night: Literal["dim", "off", "on"] = "dim"

    @property
    def languages(self) -> list[str]:
        return [self.language] if isinstance(self.language, str) else list(self.language)

    @property
    def lang(self) -> str:
        """The display's first language: the one its page is built in."""
        return self.languages[0]

    def title_in(self, lang: str) -> str:
        return self.title_sv if lang == "sv" and self.title_sv else self.title


class Source(_Strict):
    name: Code
    # "metrics": rows of (unit, metric, key, value) for any metric, the centre's own included
    kind: Literal["demo", "workbook", "fhir", "staffing", "queue", "callback", "access", "metrics"]
    address: str | None = None
    poll_seconds: float = Field(default=30, gt=0)
    timeout_seconds: float = Field(default=10, gt=0)  # each request to the source
    units: list[str] = []
    unit_map: dict[str, str] = {}
    token_env: str | None = None
    feed: Literal["queue", "callback", "staffing", "appointments", "flow", "access", "metrics"] | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    profession_map: dict[str, str] = {}
    format: Literal["json", "csv"] | None = None
    records: str | None = None
    fields: dict[str, str] = {}
    # the secret of token_env goes as "Authorization: Bearer …", or as this header's value
    token_header: str | None = None
    # fhir: how far ahead free slots are looked for (T3 beyond it is "> N pv")
    slot_horizon_days: int = Field(default=90, ge=1, le=400)
    # fhir: a full (not incremental) poll at least this often, so deletions leave the figures
    full_poll_minutes: int = Field(default=60, ge=1, le=1440)
    # access cases (kind "access", a fhir source with service_map, the demo's access feed):
    # the environment variable holding the secret the case ids are keyed with (HMAC)
    case_key_env: str | None = None
    # fhir: ServiceRequest category or code ("system|code" or "code") -> service of the rules
    service_map: dict[str, str] = {}
    # fhir: ServiceRequests authored this many days back are followed (open cases included)
    case_days: int = Field(default=400, ge=1, le=1500)


# The built-in pages as named card sets (a card set: the cards a page shows, in order); a
# [[pages]] entry of the same id replaces one. The cards are the built-in sections
# (layouts/components.py SECTION) or [[cards]] ids.
BUILTIN_CARDS = ("queues", "capacity", "flow", "access")
BUILTIN_PAGES: dict[str, tuple[str, ...]] = {
    "overview": ("queues", "capacity", "flow"),
    "queues": ("queues",),
    "capacity": ("capacity",),
    "flow": ("flow",),
    "access": ("access",),
    "region": (),
}
MetricId = Annotated[str, Field(min_length=3, max_length=80, pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")]


class MetricLimit(_Strict):
    """A limit in force from a date on (a law's staffing ratio, say), until the next one."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    valid_from: date = Field(alias="from")
    value: float
    law: str = ""  # where it comes from, shown beside it


class MetricSpec(_Strict):
    """One of the centre's own metrics (`[[metrics]]`), beside the built-in catalogue."""

    id: MetricId
    name: str = Field(min_length=1, max_length=80)  # Finnish
    name_sv: str | None = Field(default=None, min_length=1, max_length=80)
    name_en: str | None = Field(default=None, min_length=1, max_length=80)
    # what a value is keyed by besides its unit: nothing, or a queue, profession, resource or
    # a free label (a ward's room type, a care home's wing)
    keyed_by: Literal["unit", "queue", "profession", "resource", "label"] = "unit"
    # "count": of today, from zero at midnight (its day's figure is the day's total); "level":
    # stands until changed; "duration": minutes; "ratio", "percent": a share
    kind: Literal["count", "level", "duration", "ratio", "percent"] = "level"
    decimals: int = Field(default=0, ge=0, le=3)
    good: Literal["up", "down", "none"] = "none"
    # how long a value entered by a person (workbook, tablet) stands; none: to the day's end
    manual_hours: float | None = Field(default=None, gt=0, le=24)
    card: str | None = None
    derived: str | None = None  # e.g. "100 * ward.beds_in_use / ward.beds_total"
    limits: list[MetricLimit] = []
    keys: list[str] = []  # the keys it has, known ahead (the tablet offers these first)

    def names(self) -> dict[str, str]:
        return {"fi": self.name, **({"sv": self.name_sv} if self.name_sv else {}),
                **({"en": self.name_en} if self.name_en else {})}

    def metric(self) -> Metric:
        try:
            derived = parse(self.derived) if self.derived else None
        except ExpressionError:
            derived = None  # check-config names it
        return Metric(self.id, None if self.keyed_by == "unit" else self.keyed_by,
                      kind="count" if self.kind == "count" else "gauge", names=self.names(), measure=self.kind,
                      decimals=self.decimals, good=self.good, derived=derived,
                      limits=tuple(sorted((x.valid_from, x.value) for x in self.limits)),
                      keys=tuple(k.strip().lower() for k in self.keys), manual_hours=self.manual_hours)


class CardSpec(_Strict):
    """A card of the centre's own metrics (`[[cards]]`): a unit's values of these metrics."""

    id: Code
    name: str = Field(min_length=1, max_length=60)
    name_sv: str | None = None
    name_en: str | None = None
    metrics: list[str] = []  # besides those whose `card` is this one

    def name_in(self, lang: str) -> str:
        return {"sv": self.name_sv, "en": self.name_en}.get(lang) or self.name


class PageSpec(_Strict):
    """A page as a named card set (`[[pages]]`): built-in sections and [[cards]] ids."""

    id: Code
    cards: list[str] = Field(min_length=1)


class Rule(_Strict):
    metric: str
    above: float | None = None
    below: float | None = None
    level: int = Field(ge=2, le=4)
    units: list[str] = []
    # "open": evaluated during the unit's opening hours only; "always": around the clock
    hours: Literal["open", "always"] = "open"


class EscalationAction(_Strict):
    """An action a unit's level calls for (`[[escalation.actions]]`): when a unit rises to
    `level` (or above, while no action of a higher level names it), the action is open for
    the unit until someone of its role marks it done or not needed."""

    id: Code
    level: int = Field(ge=2, le=4)
    units: list[str] = []  # none: every unit
    text: str = Field(min_length=1, max_length=200)  # Finnish
    text_sv: str | None = Field(default=None, min_length=1, max_length=200)
    role: Literal["shift_lead", "manager", "admin"] = "shift_lead"  # who owns it
    within_minutes: int = Field(default=30, ge=1, le=24 * 60)  # acknowledged within this


class Escalation(_Strict):
    rules: list[Rule] = []
    actions: list[EscalationAction] = []


class NotifyChannel(_Strict):
    """Where a notification goes (`[[notify.channels]]`): e-mail over SMTP, a webhook with a
    JSON body (Teams' and Slack's incoming webhooks take it), or an apprise URL. Secrets and
    recipients as names of environment variables; never in logs."""

    name: Code
    kind: Literal["email", "webhook", "apprise"]
    # the role this channel reaches (an overdue action goes to the next role up)
    role: Literal["shift_lead", "manager", "admin"] | None = None
    # email: the SMTP server, and who it goes to (addresses in an environment variable,
    # comma-separated: never in the configuration or the logs)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user_env: str | None = None
    smtp_password_env: str | None = None
    sender: str | None = None
    to_env: str | None = None
    # webhook: the URL (it carries its own secret) in an environment variable
    url_env: str | None = None
    # apprise: its URL(s) in an environment variable
    apprise_env: str | None = None
    timeout_seconds: float = Field(default=10, gt=0, le=120)
    language: Lang = "fi"


class NotifyRule(_Strict):
    """When to notify (`[[notify.rules]]`), once per episode, repeated while unacknowledged
    every `repeat_minutes`, with a "back to normal" message after (`recovery`)."""

    id: Code
    when: Literal["level", "action_overdue", "screen_silent", "source_failing", "metric"]
    channels: list[str] = Field(min_length=1)
    units: list[str] = []  # none: every unit
    level: int | None = Field(default=None, ge=2, le=4)  # level: at or above this
    minutes: int | None = Field(default=None, ge=1, le=24 * 60)  # screen_silent, source_failing
    metric: str | None = None  # metric: which, and its threshold
    key: str | None = None
    above: float | None = None
    below: float | None = None
    displays: list[str] = []  # screen_silent: none means every display
    sources: list[str] = []  # source_failing: none means every source
    repeat_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    recovery: bool = True
    # "open": quiet outside the unit's (or display's) opening hours; "always": around the clock
    hours: Literal["open", "always"] = "always"


class NotifySettings(_Strict):
    channels: list[NotifyChannel] = []
    rules: list[NotifyRule] = []


class AccessRule(_Strict):
    """One dated version of an access-to-care limit (PRODUCT.md "Access to care")."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    id: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_-]+$")]
    service: Code
    measure: Literal["contact_to_assessment", "assessment_to_start", "decision_to_start", "contact_to_start"]
    limit: str
    ages: Literal["all", "<23", ">=23", ">=75"] = "all"
    valid_from: date = Field(alias="from")
    valid_until: date | None = Field(default=None, alias="until")
    law: str = Field(min_length=1, max_length=200)

    @field_validator("limit")
    @classmethod
    def _limit(cls, value: str) -> str:
        from dashboard.domain.carecases import Limit

        Limit.parse(value)
        return value.strip()

    def version(self) -> RuleVersion:
        from dashboard.domain.carecases import Limit, RuleVersion

        return RuleVersion(self.id, self.service, self.measure, Limit.parse(self.limit), self.ages,
                           self.valid_from, self.valid_until, self.law)


class AccessSettings(_Strict):
    rules: list[AccessRule] = []
    # days from assessment to start: the upper edges of the bins (THL: 0, 7, 14, 28, 90)
    bins: list[int] = Field(default=[0, 7, 14, 28, 90], min_length=1, max_length=12)

    @property
    def services(self) -> set[str]:
        return {r.service for r in self.rules}

    def versions(self) -> list[RuleVersion]:
        return [r.version() for r in self.rules]


class OidcSettings(_Strict):
    issuer: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret_env: str = Field(min_length=1)
    scope: str = "openid profile"
    name_claim: str = "preferred_username"
    roles_claim: str = "roles"
    # the identity provider's role or group names -> ours
    role_map: dict[str, Literal["shift_lead", "manager", "admin"]] = Field(min_length=1)
    units_claim: str | None = None
    # claim listing the person's site codes: every unit of those sites (beside units_claim)
    sites_claim: str | None = None
    button: str = "Kirjaudu organisaation tunnuksella"


class AuthSettings(_Strict):
    oidc: OidcSettings | None = None


class HistorySettings(_Strict):
    # raw reading changes are kept this long; hourly and daily rollups are kept for good
    raw_days: int = Field(default=400, ge=7)


class Config(_Strict):
    site: Site = Site()
    sites: list[AreaSite] = []
    units: list[Unit] = Field(min_length=1)
    displays: list[Display] = []
    sources: list[Source] = []
    escalation: Escalation = Escalation()
    access: AccessSettings = AccessSettings()
    history: HistorySettings = HistorySettings()
    auth: AuthSettings = AuthSettings()
    notify: NotifySettings = NotifySettings()
    metrics: list[MetricSpec] = []
    cards: list[CardSpec] = []
    pages: list[PageSpec] = []
    path: Path | None = Field(default=None, exclude=True)
    # every unit's zone, made once (a model asks per unit, an area has hundreds); kept with
    # what it was made of, so that a copy with other units or sites makes its own
    _zones_made: tuple[tuple[int, int, int], dict[str, ZoneInfo]] | None = PrivateAttr(default=None)
    # the own metrics made once per list of them (a model asks at every build): the list and
    # its length they were made of, by id, the derived ones' order, the whole catalogue
    _own_made: tuple[list[MetricSpec], int, dict[str, Metric], list[str], dict[str, Metric]] | None = \
        PrivateAttr(default=None)

    @model_validator(mode="after")
    def _define_metrics(self) -> Config:
        # the centre's own metrics are known by id from here on (dashboard/domain/metrics.py get)
        metric_defs.define([m.metric() for m in self.metrics if m.id not in CATALOGUE])
        return self

    def unit(self, code: str) -> Unit:
        return next(u for u in self.units if u.code == code)

    def own_metrics(self) -> dict[str, Metric]:
        """The centre's own metrics (`[[metrics]]`), by id (made once per list of them: a
        model asks for every build)."""
        made = self._own_made
        if made is not None and made[0] is self.metrics and made[1] == len(self.metrics):
            return made[2]
        own = {m.id: m.metric() for m in self.metrics if m.id not in CATALOGUE}
        try:
            derived = order({k: v.derived for k, v in own.items() if v.derived is not None})
        except ExpressionError:
            derived = []  # check-config names the circle
        self._own_made = (self.metrics, len(self.metrics), own, derived, {**CATALOGUE, **own})
        return own

    def derived_order(self) -> list[str]:
        """The derived metrics, each after the derived ones it reads."""
        self.own_metrics()
        assert self._own_made is not None
        return self._own_made[3]

    def catalogue(self) -> dict[str, Metric]:
        """Every metric this configuration knows: the built-in ones, then its own (made
        with them: read, never change)."""
        self.own_metrics()
        assert self._own_made is not None
        return self._own_made[4]

    def card_sets(self) -> dict[str, tuple[str, ...]]:
        """Each page id's cards: the built-in pages, replaced or joined by [[pages]]."""
        return {**BUILTIN_PAGES, **{p.id: tuple(p.cards) for p in self.pages}}

    def card_metrics(self, card: str) -> list[str]:
        """A [[cards]] card's metrics: those it lists, then those that name it as their card."""
        spec = next((c for c in self.cards if c.id == card), None)
        listed = list(spec.metrics) if spec else []
        return list(dict.fromkeys([*listed, *(m.id for m in self.metrics if m.card == card)]))

    def own_needed(self, d: Display) -> frozenset[str]:
        """The centre's own metrics a display's model reads: those its pages show, and those
        the escalation rules read (a unit's level is the unit's, whatever a display shows),
        with what the derived ones among them are made of."""
        own = self.own_metrics()
        if not own:
            return frozenset()
        return frozenset(self.with_inputs(set(self.shown_metrics(d))
                                          | {r.metric for r in self.escalation.rules if r.metric in own}))

    def with_inputs(self, names: set[str]) -> set[str]:
        """The metrics named, and what the derived ones among them are made of (and theirs)."""
        own = self.own_metrics()
        want = set(names)
        stack = list(want)
        while stack:
            m = own.get(stack.pop())
            if m is not None and m.derived is not None:
                fresh = set(m.derived.names) - want
                want |= fresh
                stack += fresh
        return want

    def shown_metrics(self, d: Display) -> list[str]:
        """The centre's own metrics a display's pages show."""
        sets = self.card_sets()
        return list(dict.fromkeys(m for p in d.pages for c in sets.get(p, ()) for m in self.card_metrics(c)))

    @property
    def area(self) -> list[AreaSite]:
        """The area's sites: [[sites]], or the one centre of [site]."""
        if self.sites:
            return list(self.sites)
        return [AreaSite(code=self.site.code, name=self.site.name, name_sv=self.site.name_sv,
                         opening_hours=list(self.site.opening_hours), timezone=self.site.timezone,
                         language=self.site.language)]

    def site_of(self, unit: str) -> AreaSite:
        """The site a unit belongs to (its `site`, or the area's only one)."""
        sites = self.area
        u = next((x for x in self.units if x.code == unit), None)
        code = u.site if u is not None and u.site else sites[0].code
        return next((s for s in sites if s.code == code), sites[0])

    def unit_sites(self) -> dict[str, str]:
        """Every unit's site code, in one pass (for a whole area at a time)."""
        first = self.sites[0].code if self.sites else self.site.code
        return {u.code: u.site or first for u in self.units}

    def site_units(self, site: str) -> list[str]:
        """The codes of a site's units, in the configuration's order."""
        return [code for code, s in self.unit_sites().items() if s == site]

    def scope_units(self, sites: list[str], units: list[str]) -> list[str]:
        """The units of a person's scope given as sites and units, in the configuration's
        order (empty: every unit)."""
        wanted = set(units) | {u for site in sites for u in self.site_units(site)}
        return [u.code for u in self.units if u.code in wanted]

    def display_sites(self, d: Display) -> list[AreaSite]:
        """The sites whose units a display shows, in the area's order."""
        of = self.unit_sites()
        codes = {of.get(u) for u in d.units}
        return [s for s in self.area if s.code in codes]

    def display(self, display_id: str) -> Display:
        for d in self.displays:
            if d.id == display_id:
                return d
        raise KeyError(display_id)

    def hours(self, unit: str) -> Hours:
        """The unit's opening hours (its own, else the site's)."""
        u = next((x for x in self.units if x.code == unit), None)
        spec = (u.opening_hours if u is not None and u.opening_hours is not None
                else self.site_of(unit).opening_hours or self.site.opening_hours)
        if spec == "always":
            return Hours(0, 24, True)
        return Hours(int(spec[0]), int(spec[1]), u is not None and u.open_days == "every")

    def hours_specs(self) -> dict[str, str]:
        """Every unit's opening hours, and the site's ("*"), as the rollups keep them."""
        start, end = self.site.opening_hours
        return {"*": Hours(start, end, False).spec(), **{u.code: self.hours(u.code).spec() for u in self.units}}

    def poll_intervals(self, speed: float = 1.0) -> dict[str, float]:
        """Every source's poll interval in seconds, by name (a figure's staleness window is
        twice it: dashboard.domain.freshness), on a clock that runs `speed` times as fast as
        real time (the demo's `--speed`: a feed polled every 5 real seconds is polled every 20
        of a clock running four times as fast, and its figures are as fresh as ever; a clock
        that stands, speed 0, keeps the real seconds: on it nothing ages at all). Made anew at
        each call: a copy of the configuration with other sources has other intervals."""
        scale = speed if speed > 0 else 1.0
        return {s.name: s.poll_seconds * scale for s in self.sources}

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def tz(self) -> ZoneInfo:
        """The installation's time zone ([site] timezone): a site's, unless it names another."""
        return _zone(self.site.timezone)

    def site_tz(self, site: str) -> ZoneInfo:
        """A site's time zone (its own, else the installation's)."""
        found = next((s for s in self.area if s.code == site), None)
        return _zone(found.timezone if found is not None and found.timezone else self.site.timezone)

    def tz_of(self, unit: str) -> ZoneInfo:
        """A unit's time zone: its site's. Its "today", working days, opening hours and the
        times shown of it are of this zone."""
        zone = self.unit_zones().get(unit)
        return zone if zone is not None else self.site_tz(self.site_of(unit).code)

    def unit_zones(self) -> dict[str, ZoneInfo]:
        """Every unit's zone by its code (made once: for a whole area at a time)."""
        made = self._zones_made
        made_of = (id(self.units), id(self.sites), id(self.site))
        if made is None or made[0] != made_of:
            made = self._zones_made = (made_of, {u.code: self.site_tz(self.site_of(u.code).code) for u in self.units})
        return made[1]

    def zones(self) -> Zones:
        """Every unit's zone, as the rollups record it."""
        default = self.site.timezone
        return Zones(default, tuple(sorted((u.code, z.key) for u in self.units
                                           if (z := self.tz_of(u.code)).key != default)))

    def tz_for(self, units: list[str]) -> ZoneInfo:
        """The zone of a set of units (a display's, a source's): theirs if they share one,
        else the installation's."""
        found = {self.tz_of(u).key for u in units}
        return _zone(found.pop()) if len(found) == 1 else self.tz

    def source_tz(self, source: Source) -> ZoneInfo:
        """The zone a feed reads its "today" and local times in: its units' (check-config
        keeps them to one)."""
        return self.tz_for(self.source_units(source))

    def notice_tz(self, unit: str) -> ZoneInfo:
        """The zone a notice's times are read in: its unit's, or for every unit ("kaikki")
        the installation's."""
        return self.tz if unit == "kaikki" else self.tz_of(unit)

    def source_units(self, source: Source) -> list[str]:
        """The units a source writes: those it names or maps to (none named: any)."""
        named = list(dict.fromkeys([*source.units, *source.unit_map.values()]))
        return named or [u.code for u in self.units]


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _cross_checks(cfg: Config) -> list[tuple[str, str]]:
    """What the types alone cannot say: references, duplicates, kind-specific needs."""
    problems: list[tuple[str, str]] = []
    unit_codes = {u.code for u in cfg.units}

    def duplicates(items: list[str], where: str, field: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item in seen:
                problems.append((f"{where}[{i}].{field}", f"duplicate {field} {item!r}"))
            seen.add(item)

    duplicates([u.code for u in cfg.units], "units", "code")
    # a workbook's unit is found by code, name, Swedish name or alias, folded as the workbook
    # folds them: each must be one unit's
    names = {fold(n): u.code for u in cfg.units for n in (u.code, u.name, u.name_sv)}
    for i, u in enumerate(cfg.units):
        for j, alias in enumerate(u.aliases):
            other = names.get(fold(alias))
            if not alias.strip():
                problems.append((f"units[{i}].aliases[{j}]", "an alias may not be blank"))
            elif other is not None and other != u.code:
                problems.append((f"units[{i}].aliases[{j}]", f"{alias!r} already names unit {other!r}"))
            else:
                names[fold(alias)] = u.code
    duplicates([d.id for d in cfg.displays], "displays", "id")
    duplicates([s.name for s in cfg.sources], "sources", "name")

    for i, d in enumerate(cfg.displays):
        if not d.languages or len(set(d.languages)) != len(d.languages):
            problems.append((f"displays[{i}].language", "give one language or several different ones"))
        for j, code in enumerate(d.units):
            if code not in unit_codes:
                problems.append((f"displays[{i}].units[{j}]", f"unknown unit {code!r}"))
        if d.mode == "public" and "access" in d.pages:
            problems.append((f"displays[{i}].pages", "access to care is for staff displays, never a public one"))
    for i, s in enumerate(cfg.sources):
        if s.kind != "demo" and not s.address:
            problems.append((f"sources[{i}].address", f"a {s.kind} source needs an address"))
        if s.kind == "demo" and s.feed is None:
            problems.append((f"sources[{i}].feed", f"a demo source needs a feed: {DEMO_FEEDS}"))
        for j, code in enumerate(s.units):
            if code not in unit_codes:
                problems.append((f"sources[{i}].units[{j}]", f"unknown unit {code!r}"))
        for ext, code in s.unit_map.items():
            if code not in unit_codes:
                problems.append((f"sources[{i}].unit_map.{ext}", f"unknown unit {code!r}"))
        if s.client_secret_env and s.client_secret_env not in os.environ:
            problems.append((f"sources[{i}].client_secret_env",
                             f"environment variable {s.client_secret_env} is not set"))
        if s.token_url and not (s.client_id and s.client_secret_env):
            problems.append((f"sources[{i}].token_url", "OAuth2 needs client_id and client_secret_env too"))
        if s.token_env and s.token_env not in os.environ:
            problems.append(
                (f"sources[{i}].token_env", f"environment variable {s.token_env} is not set")
            )
    problems += _metric_checks(cfg)
    known = cfg.catalogue()
    for i, r in enumerate(cfg.escalation.rules):
        if r.metric not in known and r.metric != "staff.present_ratio":
            problems.append((f"escalation.rules[{i}].metric", f"unknown metric {r.metric!r}"))
        if (r.above is None) == (r.below is None):
            problems.append((f"escalation.rules[{i}]", "give exactly one of above or below"))
        for j, code in enumerate(r.units):
            if code not in unit_codes:
                problems.append((f"escalation.rules[{i}].units[{j}]", f"unknown unit {code!r}"))
    problems += _site_checks(cfg)
    problems += _access_checks(cfg)
    problems += _notify_checks(cfg)
    oidc = cfg.auth.oidc
    if oidc is not None:
        if not oidc.issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            problems.append(("auth.oidc.issuer", "must be an https:// address"))
        if oidc.client_secret_env not in os.environ:
            problems.append(("auth.oidc.client_secret_env",
                             f"environment variable {oidc.client_secret_env} is not set"))
    start, end = cfg.site.opening_hours
    if not 0 <= start < end <= 24:
        problems.append(("site.opening_hours", "must be [start, end] hours with start < end"))
    for i, u in enumerate(cfg.units):
        if isinstance(u.opening_hours, list) and (
                len(u.opening_hours) != 2 or not 0 <= u.opening_hours[0] < u.opening_hours[1] <= 24):
            problems.append((f"units[{i}].opening_hours",
                             'must be [start, end] hours with start < end, or "always"'))
    return problems


def _notify_checks(cfg: Config) -> list[tuple[str, str]]:
    """Escalation actions, notification channels and rules: references, what each kind
    needs, and the environment variables named."""
    problems: list[tuple[str, str]] = []
    unit_codes = {u.code for u in cfg.units}

    def known_all(where: str, names: list[str], known: set[str], what: str) -> None:
        problems.extend((f"{where}[{j}]", f"unknown {what} {x!r}") for j, x in enumerate(names) if x not in known)

    seen: set[str] = set()
    for i, a in enumerate(cfg.escalation.actions):
        if a.id in seen:
            problems.append((f"escalation.actions[{i}].id", f"duplicate id {a.id!r}"))
        seen.add(a.id)
        known_all(f"escalation.actions[{i}].units", a.units, unit_codes, "unit")
    needs = {"email": ("smtp_host", "sender", "to_env"), "webhook": ("url_env",), "apprise": ("apprise_env",)}
    names: set[str] = set()
    for i, c in enumerate(cfg.notify.channels):
        if c.name in names:
            problems.append((f"notify.channels[{i}].name", f"duplicate name {c.name!r}"))
        names.add(c.name)
        for field in needs[c.kind]:
            if not getattr(c, field):
                what = {"email": "an e-mail", "webhook": "a webhook", "apprise": "an apprise"}[c.kind]
                problems.append((f"notify.channels[{i}].{field}", f"{what} channel needs {field}"))
        for field in ("to_env", "url_env", "apprise_env", "smtp_user_env", "smtp_password_env"):
            env = getattr(c, field)
            if env and env not in os.environ:
                problems.append((f"notify.channels[{i}].{field}", f"environment variable {env} is not set"))
    known = cfg.catalogue()
    displays = {d.id for d in cfg.displays}
    sources = {s.name for s in cfg.sources}
    rule_ids: set[str] = set()
    for i, r in enumerate(cfg.notify.rules):
        where = f"notify.rules[{i}]"
        if r.id in rule_ids:
            problems.append((f"{where}.id", f"duplicate id {r.id!r}"))
        rule_ids.add(r.id)
        known_all(f"{where}.channels", r.channels, names, "channel")
        known_all(f"{where}.units", r.units, unit_codes, "unit")
        known_all(f"{where}.displays", r.displays, displays, "display")
        known_all(f"{where}.sources", r.sources, sources, "source")
        if r.when == "level" and r.level is None:
            problems.append((f"{where}.level", "a level rule needs the level (2–4) at or above which it notifies"))
        if r.when in ("screen_silent", "source_failing") and r.minutes is None:
            problems.append((f"{where}.minutes", f"a {r.when} rule needs minutes"))
        if r.when == "metric":
            if r.metric is None or r.metric not in known:
                problems.append((f"{where}.metric", f"a metric rule needs a known metric, not {r.metric!r}"))
            if (r.above is None) == (r.below is None):
                problems.append((where, "give exactly one of above or below"))
    return problems


def _metric_checks(cfg: Config) -> list[tuple[str, str]]:
    """The centre's own metrics, cards and pages: ids, references, names in the languages
    they are shown in, derived values that can be computed."""
    problems: list[tuple[str, str]] = []
    ids: dict[str, int] = {}
    for i, m in enumerate(cfg.metrics):
        if m.id in CATALOGUE:
            problems.append((f"metrics[{i}].id", f"{m.id!r} is a built-in metric; give yours another id"))
        elif m.id in ids:
            problems.append((f"metrics[{i}].id", f"duplicate id {m.id!r} (also metrics[{ids[m.id]}])"))
        ids.setdefault(m.id, i)
    known = cfg.catalogue()
    derived: dict[str, Expression] = {}
    for i, m in enumerate(cfg.metrics):
        if m.derived is not None:
            try:
                e = parse(m.derived)
            except ExpressionError as err:
                problems.append((f"metrics[{i}].derived", str(err)))
                continue
            for name in e.names:
                if name == m.id:
                    problems.append((f"metrics[{i}].derived", f"refers to itself ({m.id!r})"))
                elif name not in known:
                    problems.append((f"metrics[{i}].derived", f"refers to {name!r}, which is no metric"))
                elif (n := known[name]).series:
                    problems.append((f"metrics[{i}].derived", f"{name!r} is a series, not a number"))
                elif n.keyed_by not in (None, known[m.id].keyed_by if m.id in known else None):
                    problems.append((f"metrics[{i}].derived",
                                     f"{name!r} is keyed by {n.keyed_by}, {m.id!r} by {m.keyed_by}: "
                                     "a derived value reads the same unit and key"))
            if all(n in known and n != m.id for n in e.names):
                derived[m.id] = e
        froms = [x.valid_from for x in m.limits]
        if len(set(froms)) != len(froms):
            problems.append((f"metrics[{i}].limits", "two limits from the same date"))
        if m.limits and m.good == "none":
            problems.append((f"metrics[{i}].good", "a metric with a limit says which way is good: up or down"))
    try:
        order(derived)
    except ExpressionError as err:
        problems.append(("metrics", f"a derived metric {err}"))
    cards = {c.id for c in cfg.cards}
    for i, c in enumerate(cfg.cards):
        if c.id in BUILTIN_CARDS:
            problems.append((f"cards[{i}].id", f"{c.id!r} is a built-in card; give yours another id"))
        for j, name in enumerate(c.metrics):
            if name not in known:
                problems.append((f"cards[{i}].metrics[{j}]", f"unknown metric {name!r}"))
            elif name in CATALOGUE:
                problems.append((f"cards[{i}].metrics[{j}]",
                                 f"{name!r} is built-in: it is shown by the built-in cards {', '.join(BUILTIN_CARDS)}"))
    for i, m in enumerate(cfg.metrics):
        if m.card is not None and m.card not in cards:
            problems.append((f"metrics[{i}].card", f"unknown card {m.card!r} (no [[cards]] of that id)"))
    for i, c in enumerate(cfg.cards):
        if not cfg.card_metrics(c.id):
            problems.append((f"cards[{i}]", "a card with no metrics (list them, or give metrics this card)"))
    for i, ps in enumerate(cfg.pages):
        if ps.id == "region":
            problems.append((f"pages[{i}].id", "the regional page is not a card set"))
        for j, cid in enumerate(ps.cards):
            if cid not in BUILTIN_CARDS and cid not in cards:
                problems.append((f"pages[{i}].cards[{j}]",
                                 f"unknown card {cid!r}: one of {', '.join(BUILTIN_CARDS)} or a [[cards]] id"))
    duplicates = [p.id for p in cfg.pages]
    for i, pid in enumerate(duplicates):
        if pid in duplicates[:i]:
            problems.append((f"pages[{i}].id", f"duplicate id {pid!r}"))
    sets = cfg.card_sets()
    names = {"sv": "name_sv", "en": "name_en"}
    for i, d in enumerate(cfg.displays):
        for j, page in enumerate(d.pages):
            if page not in sets:
                problems.append((f"displays[{i}].pages[{j}]",
                                 f"unknown page {page!r}: one of {', '.join(BUILTIN_PAGES)} or a [[pages]] id"))
        shown = cfg.shown_metrics(d)
        for lang in d.languages:
            if lang == "fi":
                continue
            for k, m in enumerate(cfg.metrics):
                if m.id in shown and getattr(m, names[lang]) is None:
                    problems.append((f"metrics[{k}].{names[lang]}",
                                     f"display {d.id!r} is in {lang} and shows {m.id!r}: give its name in {lang}"))
            for k, c in enumerate(cfg.cards):
                if any(c.id in sets.get(p, ()) for p in d.pages) and getattr(c, names[lang]) is None:
                    problems.append((f"cards[{k}].{names[lang]}",
                                     f"display {d.id!r} is in {lang} and shows card {c.id!r}: give its name in {lang}"))
    return list(dict.fromkeys(problems))


def _resolve_sites(cfg: Config) -> None:
    """A display given by `sites` shows every unit of those sites (known ones; the checks
    name the rest)."""
    of = cfg.unit_sites()
    for d in cfg.displays:
        if d.sites and not d.units:
            d.units = [code for code, site in of.items() if site in d.sites]


def _site_checks(cfg: Config) -> list[tuple[str, str]]:
    """[[sites]]: unique codes, every unit of a known site, usable hours, and every feed
    within one time zone (a workbook's rows are each read in their own unit's zone)."""
    problems: list[tuple[str, str]] = []
    codes = [s.code for s in cfg.area]
    seen: set[str] = set()
    for i, s in enumerate(cfg.sites):
        if s.code in seen:
            problems.append((f"sites[{i}].code", f"duplicate code {s.code!r}"))
        seen.add(s.code)
        hours = s.opening_hours
        if hours is not None and (len(hours) != 2 or not 0 <= hours[0] < hours[1] <= 24):
            problems.append((f"sites[{i}].opening_hours", "must be [start, end] hours with start < end"))
    for i, u in enumerate(cfg.units):
        if u.site is None:
            if len(cfg.sites) > 1:
                problems.append((f"units[{i}].site", f"name the unit's site: one of {', '.join(codes)}"))
        elif u.site not in codes:
            problems.append((f"units[{i}].site", f"unknown site {u.site!r} (sites: {', '.join(codes)})"))
    for i, d in enumerate(cfg.displays):
        for j, code in enumerate(d.sites):
            if code not in codes:
                problems.append((f"displays[{i}].sites[{j}]", f"unknown site {code!r}"))
        if not d.units:
            problems.append((f"displays[{i}].units", "give the units it shows, or its sites"))
        if "region" in d.pages and d.mode == "public":
            problems.append((f"displays[{i}].pages", "the regional picture is for staff displays, never a public one"))
    if len({s.timezone or cfg.site.timezone for s in cfg.area}) > 1:
        for i, src in enumerate(cfg.sources):
            if src.kind == "workbook":
                continue
            zones = sorted({cfg.tz_of(u).key for u in cfg.source_units(src)})
            if len(zones) > 1:
                problems.append((f"sources[{i}].units",
                                 f"its units are in more than one time zone ({', '.join(zones)}): a feed's "
                                 "\"today\" and local times are one zone's; give each zone its own source"))
    return problems


def _access_checks(cfg: Config) -> list[tuple[str, str]]:
    from dashboard.domain.carecases import overlaps

    problems: list[tuple[str, str]] = []
    rules = cfg.access.rules
    duplicates: dict[str, int] = {}
    for i, r in enumerate(rules):
        if r.id in duplicates:
            problems.append((f"access.rules[{i}].id", f"duplicate id {r.id!r} (also access.rules[{duplicates[r.id]}])"))
        duplicates.setdefault(r.id, i)
        if r.valid_until is not None and r.valid_until < r.valid_from:
            problems.append((f"access.rules[{i}].until", f"{r.valid_until} is before from = {r.valid_from}"))
    versions = [r.version() for r in rules]
    by_version = {id(v): i for i, v in enumerate(versions)}
    for a, b in overlaps(versions):
        i, j = by_version[id(a)], by_version[id(b)]
        problems.append((f"access.rules[{j}]",
                         f"{b.id!r} overlaps {a.id!r} (access.rules[{i}]): both judge {b.service} "
                         f"{b.measure} for ages {a.ages}/{b.ages} between "
                         f"{max(a.valid_from, b.valid_from)} and {min(a.valid_until or date.max, b.valid_until or date.max)}"))
    edges = cfg.access.bins
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)) or edges[0] < 0:
        problems.append(("access.bins", "give increasing whole numbers of days from 0 up, e.g. [0, 7, 14, 28, 90]"))
    services = cfg.access.services
    for i, s in enumerate(cfg.sources):
        takes_cases = s.kind == "access" or (s.kind == "fhir" and s.service_map) or s.feed == "access"
        if takes_cases:
            if not rules:
                problems.append((f"sources[{i}]", "a source of access cases needs [[access.rules]]"))
            if s.kind != "demo" and not s.case_key_env:
                problems.append((f"sources[{i}].case_key_env",
                                 "name the environment variable holding the secret case ids are keyed with"))
            elif s.case_key_env and s.case_key_env not in os.environ:
                problems.append((f"sources[{i}].case_key_env",
                                 f"environment variable {s.case_key_env} is not set"))
        for code, service in s.service_map.items():
            if service not in services:
                problems.append((f"sources[{i}].service_map.{code}",
                                 f"unknown service {service!r}: no [[access.rules]] names it"))
    return problems


def parse_config(text: str, file: str) -> Config:
    """Parse and validate configuration text; raise ConfigError listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([Problem(file, "(syntax)", str(err))]) from None
    try:
        cfg = Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(
            [Problem(file, _dotted(e["loc"]), e["msg"]) for e in err.errors()]
        ) from None
    _resolve_sites(cfg)
    problems = [Problem(file, key, reason) for key, reason in _cross_checks(cfg)]
    if problems:
        raise ConfigError(problems)
    return cfg


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    path = Path(path or os.environ.get("OHJAUSTAULU_CONFIG") or DEFAULT_CONFIG)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([Problem(str(path), "(file)", err.strerror or str(err))]) from None
    cfg = parse_config(text, str(path))
    cfg.path = path
    return cfg
