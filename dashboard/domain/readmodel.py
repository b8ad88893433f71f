"""The read model: what one display shows now, built once per change and shared by every
client of that display (the page, `snapshot --json`, the push and poll paths alike).

A model stays valid while the live store's version is the same and no tile's freshness has
changed by itself (a fresh tile turns stale at a known moment); then it is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import redis
from sqlalchemy.exc import SQLAlchemyError

from dashboard.config import Config, Display
from dashboard.domain import actions as escalation_actions
from dashboard.domain import dayforecast, region
from dashboard.domain.clock import Clock
from dashboard.domain.escalation import Period, unit_levels
from dashboard.domain.freshness import FRESH, STALE, UNAVAILABLE, resolve, status_of
from dashboard.domain.readings import Reading
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore, as_new

# what a waiting room shows: the queue, its longest wait and the wait of a person joining
# now (the mean wait stands in for it where no estimate comes)
PUBLIC_METRICS = {"queue.waiting", "queue.longest_wait_min", "queue.avg_wait_min",
                  "queue.estimated_wait_min"}
PUBLIC_LEVEL = {"level", "source", "status", "updated_at", "closed", "fresh_until"}


@dataclass
class Model:
    data: dict[str, Any]  # the snapshot JSON of PRODUCT.md
    etag: str
    valid_until: datetime | None
    version: int


def iso(moment: datetime | None) -> str | None:
    # keyed with the offset too: equal instants in other zones are equal datetimes
    return _iso(moment, moment.utcoffset()) if moment else None


@lru_cache(maxsize=8192)
def _iso(moment: datetime, _offset: timedelta | None) -> str:
    # a poll's readings share their time: thousands of tiles, a few distinct moments
    return moment.isoformat(timespec="seconds")


def iso_in(moment: datetime, tz: ZoneInfo) -> str:
    """The moment on `tz`'s clock (a unit's site's), as ISO text."""
    return _iso_in(moment, moment.utcoffset(), tz)


@lru_cache(maxsize=8192)
def _iso_in(moment: datetime, _offset: timedelta | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")


# an ISO text's instant (as-of: the newest of thousands of tiles' few distinct times)
_instant = lru_cache(maxsize=8192)(datetime.fromisoformat)


def _level_fresh_until(config: Config, escalation: dict[str, Any], tiles: list[dict[str, Any]]) -> None:
    """A fresh level of the rules is as fresh as the newest-lasting fresh input of its rules
    (when all of them have turned stale, the rules see nothing: the level is stale too); a
    shift lead's level lasts until its end. A closed unit's level needs no data."""
    metrics = {r.metric for r in config.escalation.rules}
    inputs: dict[str, list[str]] = {}  # each unit's fresh inputs of its rules: when they end
    for t in tiles:
        if t.get("fresh_until") and (t["metric"] in metrics or _ratio_input(t["metric"], metrics)):
            inputs.setdefault(t["unit"], []).append(str(t["fresh_until"]))
    for unit, u in escalation["units"].items():
        if u.get("status") != FRESH or u.get("closed"):
            continue
        if u.get("source") == "manual":
            until = u.get("valid_until")
        else:
            until = max(inputs.get(unit, []), default=None)
        if until:
            u["fresh_until"] = until


def _ratio_input(metric: str, metrics: set[str]) -> bool:
    return "staff.present_ratio" in metrics and metric in ("staff.present", "staff.planned")


PUBLIC_NOTICE = ("id", "unit", "importance", "public", "text", "text_sv", "starts", "ends")


class UnitTiles:
    """Each unit's tiles as last made, kept while the unit's readings are the very same objects
    (LiveStore.readings_by_unit keeps a unit's list when nothing of it changed), no tile's
    freshness has moved and the day is the same: after a change of one source, or of a notice,
    500 displays rebuild their models from the tiles of the units that did not change. The
    tiles are shared by every display of the unit: read, never change."""

    def __init__(self) -> None:
        # key → (the unit's readings, the day, its tiles, when the first of them changes status)
        self._kept: dict[tuple[str, bool, bool, frozenset[str]], tuple[Any, Any, list[dict[str, Any]], datetime | None]] = {}
        # key → (the unit's tiles, the day, the rules' verdict on them and the opening period)
        self._ruled: dict[tuple[str, bool, bool, frozenset[str]], tuple[list[dict[str, Any]], Any, tuple[dict[str, Any], Period]]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, bool, bool, frozenset[str]], pairs: Any, day: Any, now: datetime) -> Any:
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and kept[0] is pairs and kept[1] == day and (kept[3] is None or now < kept[3]):
            return kept[2], kept[3]
        return None

    def put(self, key: tuple[str, bool, bool, frozenset[str]], pairs: Any, day: Any, tiles: list[dict[str, Any]],
            next_change: datetime | None) -> None:
        with self._lock:
            self._kept[key] = (pairs, day, tiles, next_change)

    def ruled(self, key: tuple[str, bool, bool, frozenset[str]], tiles: list[dict[str, Any]], day: Any, now: datetime,
              make: Callable[[], tuple[dict[str, Any], Period]]) -> tuple[dict[str, Any], Period]:
        """The rules' verdict on the unit's tiles (escalation.rules_object), kept while they are
        the same tiles, the day is the same and the unit is still in the same opening period:
        the escalation rules of an area's 200 units were read again for each of 500 displays."""
        with self._lock:
            kept = self._ruled.get(key)
        if kept is not None and kept[0] is tiles and kept[1] == day:
            when = kept[2][1]
            if (when.began is None or when.began <= now) and (when.ends is None or now < when.ends):
                return kept[2]
        made = make()
        with self._lock:
            self._ruled[key] = (tiles, day, made)
        return made


def unit_tiles(config: Config, unit: str, pairs: list[tuple[str, Reading]], now: datetime,
               metrics: Any, public: bool, history: History | None,
               polls: dict[str, float], tz: ZoneInfo | None = None) -> tuple[list[dict[str, Any]], datetime | None]:
    """One unit's tiles (a tile per metric and key, the reading shown resolved among its
    sources), and when the first of them changes status by itself. `polls`: each source's
    poll interval (Config.poll_intervals, made once per model, not per unit: an area has
    hundreds of sources)."""
    tz = tz or config.tz_of(unit)  # "today" is the unit's site's day
    candidates: dict[tuple[str, str, str], list[tuple[Reading, str, datetime | None]]] = {}
    for source, rd in pairs:
        if rd.metric not in metrics:
            continue
        # a public display's tiles are its public metrics only (build); the rest are read
        # too, so that its escalation level is the units' level, not one of queues alone
        status, changes_at = status_of(rd, now, polls.get(source, 60), tz)
        candidates.setdefault((rd.metric, rd.unit, rd.key), []).append((rd, status, changes_at))

    tiles: list[dict[str, Any]] = []
    next_change: datetime | None = None
    for (metric, unit_, key), options in candidates.items():
        (reading, status), under = resolve([(rd, st) for rd, st, _ in options])
        fresh_until = None
        for rd, _st, changes_at in options:
            if changes_at and (next_change is None or changes_at < next_change):
                next_change = changes_at
            if rd is reading and status == FRESH:
                fresh_until = changes_at
        tile: dict[str, Any] = {
            "metric": metric,
            "unit": unit_,
            "key": key,
            "value": reading.value,
            "status": status,
            "updated_at": iso_in(reading.observed_at, tz),  # on its site's clock
            "source": reading.source,
        }
        if fresh_until is not None:
            # when it turns stale by itself: the screen greys it then, whatever reaches it
            tile["fresh_until"] = iso(fresh_until)
        if reading.bound:
            tile["bound"] = reading.bound
        if reading.range:  # an uncertain estimate: "15–25 min"
            tile["range"] = list(reading.range)
        if reading.note and not public:  # a person's remark, for the staff's screens
            tile["note"] = reading.note
        if reading.manual:
            tile["manual"] = True
            if not public:  # a person's name is nothing for a waiting room
                tile["entered_by"] = reading.entered_by
            tile["valid_until"] = iso(reading.valid_until)
        if under is not None:  # a tablet correction in force: what it overrides, for all to see
            tile["corrects"] = {"value": under[0].value, "source": under[0].source, "status": under[1],
                                "updated_at": iso_in(under[0].observed_at, tz)}
        if metric == "flow.arrivals_by_hour":
            tile["typical"] = _typical(history, unit_, now, config)
            # the rest of the day, from the counts as they were when read (fresh ones only:
            # figures that stopped coming cannot say how the day is going)
            if status == FRESH and isinstance(reading.value, dict):
                expected = _day_forecast(history, unit_, reading.value, reading.observed_at.astimezone(tz))
                if expected is not None:
                    tile["forecast"] = expected
        tiles.append(tile)
    own = config.own_metrics()
    if own:
        tiles += derived_tiles(config, unit, tiles, metrics, tz)
        day = now.astimezone(tz).date()
        for tile in tiles:
            m = own.get(tile["metric"])
            if m is not None and m.limits:
                _with_limit(tile, m, day)
    return tiles, next_change


DERIVED = "derived"  # the source of a value computed from others (`[[metrics]] derived`)


def derived_tiles(config: Config, unit: str, tiles: list[dict[str, Any]], metrics: Any,
                  tz: ZoneInfo) -> list[dict[str, Any]]:
    """The unit's derived values (`[[metrics]] derived`), one per key its inputs share: the
    value from the inputs shown, stale when one of them is, newest input's time; none while
    an input has no value today, or the expression has none (a ward of no beds has no
    occupancy)."""
    own = config.own_metrics()
    by: dict[tuple[str, str], dict[str, Any]] = {(t["metric"], t["key"]): t for t in tiles}
    made: list[dict[str, Any]] = []
    for name in config.derived_order():
        if name not in metrics:
            continue
        e = own[name].derived
        inputs = [m for m in e.names]
        keys = sorted({k for (m, k) in by if m in inputs}) or [""]
        for key in keys:
            found = [by.get((m, key)) for m in inputs]
            if not found or any(x is None or x["status"] == UNAVAILABLE for x in found):
                continue
            value = e.evaluate({m: x["value"] for m, x in zip(inputs, found, strict=True) if x is not None})
            if value is None:
                continue
            newest = max(found, key=lambda x: _instant(str(x["updated_at"])))  # type: ignore[index]
            assert newest is not None
            stale = any(x["status"] == STALE for x in found if x is not None)
            decimals = own[name].decimals
            tile: dict[str, Any] = {
                "metric": name, "unit": unit, "key": key,
                "value": round(value, decimals) if decimals else round(value),
                "status": STALE if stale else FRESH,
                "updated_at": newest["updated_at"], "source": DERIVED,
                "inputs": inputs,
            }
            if not stale:
                ends = [x["fresh_until"] for x in found if x is not None and x.get("fresh_until")]
                if ends:
                    tile["fresh_until"] = min(ends, key=_instant)
            by[(name, key)] = tile
            made.append(tile)
    return made


def _with_limit(tile: dict[str, Any], m: Any, day: Any) -> None:
    """A value with a limit (`[[metrics]] limits`): the limit in force on the unit's day, and
    whether the value meets it."""
    limit = m.limit_on(day)
    if limit is not None and isinstance(tile["value"], int | float):
        tile["limit"] = limit
        tile["meets"] = m.meets(float(tile["value"]), limit)


def build(config: Config, display: Display, store: LiveStore, history: History | None,
          kept: UnitTiles | None = None, seen: tuple[int, Clock, tuple[str, int] | None] | None = None,
          every_metric: bool = False) -> Model:
    """The display's model; `kept`: each unit's tiles as other displays' models made them;
    `every_metric`: the centre's own metrics too where its pages show none (the tablet's);
    `seen`: the store's version, clock and content mark as the caller has just read them
    (LiveStore.state; read anew if not)."""
    version, clock, mark = seen if seen is not None else store.state(config.tz)
    now = clock.now()
    public = display.mode == "public"

    # a region display shows its sites' roll-ups, not the tiles (region.py): it reads only the
    # metrics they and the escalation rules are made of, and needs no order of tiles
    region_only = display.pages == ["region"]
    own_defs = config.own_metrics()
    # the centre's own metrics this display's model reads (every one for the tablet's)
    own_wanted = frozenset(own_defs) if every_metric else config.own_needed(display)
    if region_only:
        metrics: Any = region.needed(config)
    elif len(own_wanted) == len(own_defs):
        metrics = config.catalogue()
    else:
        metrics = {m: d for m, d in config.catalogue().items() if m not in own_defs or m in own_wanted}
    by_unit = store.readings_by_unit(mark)  # the display's own units' readings, not the area's
    tiles: list[dict[str, Any]] = []
    own: dict[str, list[dict[str, Any]]] = {}  # each unit's tiles, as made or kept
    next_change: datetime | None = None
    zone_of = {u: config.tz_of(u) for u in display.units}
    days = {z: now.astimezone(z).date() for z in set(zone_of.values())}
    day_of = {u: days[z] for u, z in zone_of.items()}  # each unit's site's date
    polls: dict[str, float] | None = None
    for unit in dict.fromkeys(display.units):
        pairs = by_unit.get(unit, [])
        key = (unit, region_only, public, own_wanted)
        made = kept.get(key, pairs, day_of[unit], now) if kept is not None else None
        if made is None:
            if polls is None:  # only when a unit's tiles are made, not when all are kept
                polls = config.poll_intervals(clock.speed)
            made = unit_tiles(config, unit, pairs, now, metrics, public, history, polls, zone_of[unit])
            if kept is not None:
                kept.put(key, pairs, day_of[unit], *made)
        tiles.extend(made[0])
        own[unit] = made[0]
        if made[1] is not None and (next_change is None or made[1] < next_change):
            next_change = made[1]
    for z, day in days.items():  # a new day is a new model ("today" of every figure and level)
        midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=z)
        if next_change is None or midnight < next_change:
            next_change = midnight
    if not region_only:
        unit_order = {u: i for i, u in enumerate(display.units)}
        metric_order = {m: i for i, m in enumerate(metrics)}
        tiles.sort(key=lambda t: (unit_order[t["unit"]], metric_order[t["metric"]], t["key"]))

    notices = []
    for n in store.notices_shared(mark):
        starts, ends = datetime.fromisoformat(n["starts"]), datetime.fromisoformat(n["ends"])
        for edge in (starts, ends):
            if edge > now and (next_change is None or edge < next_change):
                next_change = edge
        in_force = starts <= now < ends
        for_us = n["unit"] == "kaikki" or n["unit"] in display.units
        if in_force and for_us and (n.get("public") or not public):
            # a waiting room's screen says nothing of people: not who wrote or ended a notice
            notices.append({k: v for k, v in n.items() if k in PUBLIC_NOTICE} if public else dict(n))
    if notices:  # on a display that spans sites, each says whose it is (one for every unit: nobody's)
        of = config.unit_sites()
        sites = {x.code: x for x in config.area if x.code in {of.get(u) for u in display.units}}
        if len(sites) > 1:
            notices = [{**n, "site": x.code, "site_name": x.name, "site_name_sv": x.name_sv}
                       if (x := sites.get(of.get(n["unit"], ""))) is not None else n for n in notices]
    urgency = {"kiireellinen": 0, "tärkeä": 1}
    notices.sort(key=lambda n: (urgency.get(str(n["importance"]), 2), str(n["starts"])))

    def ruled(unit: str, make: Callable[[], tuple[dict[str, Any], Period]]) -> tuple[dict[str, Any], Period]:
        assert kept is not None
        return kept.ruled((unit, region_only, public, own_wanted), own[unit], day_of[unit], now, make)

    escalation, changes_at = unit_levels(config, tiles, store.escalations_shared(mark), now, display.units,
                                         ruled if kept is not None else None)
    if changes_at is not None and (next_change is None or changes_at < next_change):
        next_change = changes_at
    _level_fresh_until(config, escalation, tiles)
    if not public and not region_only:
        # each raised unit's actions and how many are acknowledged (staff displays only)
        for unit, items in escalation_actions.observe(config, store, escalation["units"], now, tiles).items():
            if items and unit in escalation["units"]:
                escalation["units"][unit]["actions"] = escalation_actions.counts(items, now)
                due = escalation_actions.next_due(items, now)
                if due is not None and (next_change is None or due < next_change):
                    next_change = due
    if own_defs and not every_metric:
        # the centre's own metrics on the pages that show them only (the escalation rules above
        # read theirs: a unit's level is the unit's): a display's snapshot is what it shows
        shown_own = set(config.shown_metrics(display))
        tiles = [t for t in tiles if t["metric"] not in own_defs or t["metric"] in shown_own]
    if "access" not in display.pages or public:
        # access to care is shown on a staff display's `access` page only: a display without
        # one neither shows nor reports those figures (its snapshot is what it shows)
        tiles = [t for t in tiles if not t["metric"].startswith("access.")]
    if public:
        # queues and notices only; the level without its reasons (staff figures) or who set it
        tiles = [t for t in tiles if t["metric"] in PUBLIC_METRICS]
        escalation = {"level": escalation["level"], "units": {
            unit: {k: v for k, v in level.items() if k in PUBLIC_LEVEL}
            for unit, level in escalation["units"].items()}}

    shown = [t for t in tiles if t["status"] != UNAVAILABLE]
    # the newest instant (times of units in other zones carry other offsets: not their text's order)
    as_of: str | None = max((str(t["updated_at"]) for t in shown), key=_instant, default=None)
    data: dict[str, Any] = {
        "display": display.id,
        "as_of": as_of,
        "tiles": tiles,
        "notices": notices,
        "escalation": escalation,
        "generated_at": iso(now),
        "demo_clock": clock.shifted,
    }
    if "region" in display.pages and not public:
        # the regional picture: a row per site, rolled up from these same tiles (region.py)
        data["region"] = region.rows(config, display.units, tiles, escalation, now)
        if region_only:
            # what it shows is the rows (each figure with its parts' age and status); its
            # snapshot, like every display's, is what it shows
            data["tiles"] = []
    etag = hashlib.sha256(
        json.dumps({k: v for k, v in data.items() if k != "generated_at"}, sort_keys=True,
                   default=str).encode()
    ).hexdigest()[:16]
    return Model(data, etag, next_change, version)


def snapshot(model: Model, config: Config, store: LiveStore) -> dict[str, Any]:
    """What `snapshot --json` prints: the display's model, and each source's health as it is
    now (read at the moment of asking, not cached with the model)."""
    return {**model.data, "sources": [source_health(store, s.name, s.kind) for s in config.sources]}


def source_health(store: LiveStore, name: str, kind: str) -> dict[str, Any]:
    """A source's health as operators need it: state, last success and error, items read
    and not mapped (the live store's record of its polls)."""
    st = store.source_status(name)
    state = "stopped" if store.is_stopped(name) else st.state
    return {
        "name": name, "kind": kind, "state": state,
        "last_success": st.last_success or None, "last_attempt": st.last_attempt or None,
        "last_error": st.last_error or None, "last_error_at": st.last_error_at or None,
        "items_read": int(st.items_read) if st.items_read else st.items,
        "items_unmapped": int(st.items_unmapped) if st.items_unmapped else 0,
        "unmapped_detail": st.unmapped_detail or None,
        # access-to-care cases (a FHIR source reads them beside its other resources)
        **({"cases_read": int(st.cases_read), "cases_bad": int(st.cases_bad or 0),
            "cases_bad_detail": st.cases_bad_detail or None} if st.cases_read else {}),
    }


def _typical(history: History | None, unit: str, now: datetime, config: Config) -> dict[str, float]:
    """The typical day beside today's arrivals; without the history database the wall still
    shows today's figures, just without the comparison."""
    if history is None:
        return {}
    try:
        tz = config.tz_of(unit)
        return history.typical_arrivals(unit, now.astimezone(tz).date(), tz)
    except SQLAlchemyError:
        return {}


def _day_forecast(history: History | None, unit: str, counts: dict[str, int],
                  at: datetime) -> dict[str, Any] | None:
    """The forecast of the day (dayforecast.py) from the counts as they were `at` (the site's
    time), and the same weekdays the typical day is made of; none without the history
    database or past days."""
    if history is None or not isinstance(at.tzinfo, ZoneInfo):
        return None
    try:
        past = history.same_weekday_arrivals(unit, at.date(), at.tzinfo)
    except SQLAlchemyError:
        return None
    return dayforecast.forecast(past, counts, at)


class VersionWatch:
    """The live store's version and clock, kept current by its change channel (one
    subscription per process), so that a screen asking "anything new?" costs no Redis
    round trip. While the subscription is down it knows nothing (None) and askers go to
    Redis themselves — and find out, and say, that it is away."""

    def __init__(self, store: LiveStore, tz: Any):
        self.store, self.tz = store, tz
        self.known: tuple[int, Clock] | None = None
        self.heard = 0  # changes heard of so far (and losses of the channel)
        self.heard_at = 0.0  # when the last of them was heard (time.monotonic)
        self.listeners: list[Callable[[], None]] = []  # told of each, after `known` is current
        self.stop = threading.Event()
        self.thread = threading.Thread(target=store.listen_changes, args=(self._changed, self.stop, self._lost),
                                       daemon=True, name="version-watch")
        self.thread.start()

    def _changed(self) -> None:
        self._heard(lambda: (self.store.version(), self.store.clock(self.tz)))

    def _lost(self) -> None:
        self._heard(lambda: None)

    def _heard(self, known: Callable[[], tuple[int, Clock] | None]) -> None:
        """A change or a loss heard of: counted first (a build asking meanwhile reads the store
        itself), then what is known now, then the listeners told."""
        self.heard += 1
        self.heard_at = time.monotonic()
        try:
            self.known = known()
        except redis.RedisError:
            self.known = None
        for listener in self.listeners:
            listener()


class ModelCache:
    """One model per display, rebuilt only when the store changed or a tile's freshness
    moved; every client of a display gets the same object."""

    def __init__(self, config: Config, store: LiveStore, history: History | None):
        self.config, self.store, self.history = config, store, history
        self._models: dict[str, Model] = {}
        self._lock = threading.Lock()
        self.builds = 0
        self.units = UnitTiles()  # each unit's tiles, shared by its displays' models
        self.watch: VersionWatch | None = None
        self._in_turn: tuple[int, tuple[int, Clock, tuple[str, int] | None]] | None = None

    def watch_changes(self) -> None:
        """Follow the store's changes from now on (a web process does; a command does not)."""
        if self.watch is None:
            self.watch = VersionWatch(self.store, self.config.tz)

    def peek(self, display_id: str) -> Model | None:
        """The display's model if it is known to be current without asking Redis, else None."""
        known = self.watch.known if self.watch is not None else None
        model = self._models.get(display_id)
        if known is None or model is None or model.version != known[0]:
            return None
        if model.valid_until is not None and known[1].now() >= model.valid_until:
            return None
        return model

    def seconds_until_due(self, display_id: str, cap: float) -> float:
        """How long the display's current model stays right if nothing is written."""
        model = self._models.get(display_id)
        if model is None or model.valid_until is None:
            return cap
        try:
            now = self.store.clock(self.config.tz).now()
        except redis.RedisError:
            # the store is away: the push stream's next turn, within `cap`, finds out and says so
            # (it was a traceback in the server's log for every screen pushed to)
            return cap
        return max(0.05, min(cap, (model.valid_until - now).total_seconds()))

    def last(self, display_id: str) -> Model | None:
        """The display's last model, whatever its age: for a page asked for while the live
        store is unreachable (the page says so itself, from /ready)."""
        return self._models.get(display_id)

    def _state_in_turn(self, asked: tuple[int, Clock, tuple[str, int] | None]
                       ) -> tuple[int, Clock, tuple[str, int] | None]:
        """The store's state for a build whose turn has come: read anew, unless an earlier turn
        read it, no change has been heard of since and it is no older than what the poll saw
        (`asked`): an area's 500 builds after one change read it once, not 500 times. Without
        the change channel, always anew."""
        watch = self.watch
        heard = watch.heard if watch is not None and watch.known is not None else None
        kept = self._in_turn
        if (heard is not None and kept is not None and kept[0] == heard and kept[1][2] is not None
                and asked[2] is not None and as_new(kept[1][2], asked[2])):
            return kept[1]
        seen = self.store.state(self.config.tz)  # after `heard` was read: a change meanwhile reads again
        self._in_turn = (heard, seen) if heard is not None else None
        return seen

    def get(self, display_id: str) -> Model:
        display = self.config.display(display_id)
        seen = self.store.state(self.config.tz)  # one round trip: version, clock, content mark
        version, clock = seen[0], seen[1]
        model = self._models.get(display_id)
        now = clock.now()
        if model and model.version == version and (model.valid_until is None or now < model.valid_until):
            return model
        # one build at a time in a process: 40 server threads building side by side after a
        # change (a lock per display) starved the event loop (bench/displays.py --area: p95 8.2 s,
        # 1,718 time-outs, against 1.25 s and none so)
        with self._lock:
            model = self._models.get(display_id)
            if model and model.version == version and (
                model.valid_until is None or now < model.valid_until
            ):
                return model
            # the store as it is now, not as it was before this turn came: a model labelled with
            # a version that changed while it waited is out of date at once, and every screen of
            # it asks again through this lock (bench/displays.py --area: p95 3.6 s so, 1.25 s not)
            model = build(self.config, display, self.store, self.history, self.units, self._state_in_turn(seen))
            self._models[display_id] = model
            self.builds += 1
            return model
