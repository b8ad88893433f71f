"""The live store: the one module that owns every Redis key of Ohjaustaulu.

Keys, all under the configured prefix P:
  P readings:<source>   hash  metric|unit|key -> Reading JSON (that source's last good data)
  P sources             set   names of sources that have written
  P source:<source>     hash  status: last_attempt, last_success, last_error, items, ...
  P stopped             set   sources stopped by an operator (not polled)
  P notices             hash  notice id -> notice JSON
  P clock               hash  the demo clock's anchor, when the clock is shifted
  P version             int   bumped by every write, so readers rebuild only on change
  P changes             pubsub channel, the new version on every write
  P history             stream of changed readings, drained into SQL by the history writer
  P screens             hash  screen id -> its last heartbeat JSON
  P screens-seen        zset  screen id by last heartbeat time (to forget long-gone screens)
  P escalation          hash  unit -> the level a shift lead set or confirmed, with reason
  P session:<sha256>    hash  a signed-in person's session (expires), keyed by its id's digest
  P login-failures:<who> int  failed sign-ins in a row for a name or address (expires)
  P oidc:<state>        hash  an OpenID Connect sign-in under way: nonce, PKCE verifier (expires)
  P login-blocked:<who>  str   present while `who` must wait before trying again (expires)
  P login-refused:<who>  int   attempts refused unheard while waiting, audited in one row (expires)
  P login-rate:<second>  int   sign-in attempts of the whole site in one second (expires)
  P user-sessions:<name> set   the session digests of a person, to end them all at once
  P lease:<job>         str   which collector process polls a source (or drains the history)
                              now; expires unless its holder renews it (docs/deployment.md)
  P token-ok:<sha256>   str   the display a token was last known to belong to, for when the
                              history database cannot be asked (expires after a day)
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import EllipsisType
from typing import Any

import redis

from dashboard.domain import metrics as metric_defs
from dashboard.domain.clock import Clock
from dashboard.domain.readings import Reading
from dashboard.storage import embedded

HISTORY_GROUP = "history-writer"
HISTORY_CONSUMER = "writer"  # one name: whoever holds the writer's lease reads what the last one left unacknowledged
SCREEN_FORGET_SECONDS = 7 * 24 * 3600
HISTORY_MAXLEN = 500_000  # a long database outage keeps this many changes, oldest dropped


@dataclass
class SourceStatus:
    name: str
    last_attempt: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    items: int = 0
    state: str = "unknown"  # ok, failing, stopped
    items_read: str | None = None  # fhir: resources read in the last poll
    items_unmapped: str | None = None  # fhir: resources that could not be mapped
    unmapped_detail: str | None = None
    collector: str | None = None  # the collector process (host:pid) that polled it last
    # access-to-care cases: read in the last poll, bad (by reason, in the detail), written
    cases_read: str | None = None
    cases_bad: str | None = None
    cases_bad_detail: str | None = None
    cases_written: str | None = None
    stopped_at: str | None = None  # when an operator stopped it (ISO, UTC), while it is stopped


class LiveStore:
    def __init__(self, client: redis.Redis, prefix: str):
        self.r = client
        self.p = prefix
        # every reading, parsed, as of one (epoch, version) of the store: 500 displays rebuilt
        # after one change parse the store once, not 500 times (all_readings)
        self._parsed: tuple[tuple[str, int], dict[str, list[Reading]]] | None = None
        self._parsed_lock = threading.Lock()
        self._reading_lock = threading.Lock()
        # the same readings by unit, and the notices and levels, per version: a display's model
        # reads its own units' readings, not the area's (500 displays × 6,000 readings)
        self._by_unit: tuple[dict[str, list[Reading]], dict[str, list[tuple[str, Reading]]]] | None = None
        self._by_version: dict[str, tuple[tuple[str, int], Any]] = {}
        # each source's readings as last read: the raw values and what they parsed to
        self._raw: dict[str, tuple[list[Any], list[Reading]]] = {}

    @classmethod
    def open(cls, url: str | None, data_dir: Path, prefix: str, supervise: bool = False) -> LiveStore:
        """REDIS_URL's server, or the data folder's embedded one (kept running by this
        process, with `supervise`: the long-running commands)."""
        client = connect(url) if url else embedded.connect(data_dir, supervise)
        return cls(client, prefix)

    def k(self, *parts: str) -> str:
        return self.p + ":".join(parts)

    def ping(self) -> bool:
        return bool(self.r.ping())

    # -- readings ---------------------------------------------------------------------

    def write_readings(
        self, source: str, readings: Iterable[Reading], status: dict[str, Any],
        lease: tuple[str, str] | None = None,
    ) -> list[Reading]:
        """Replace a source's readings and status in one transaction; return (and queue for
        the history) the readings whose value changed.

        With `lease` (job, holder), the write happens only while that holder still holds the
        job's lease: a collector that stalled past its lease and was taken over writes
        nothing (LeaseLost), so two collectors never interleave one source's data."""
        readings = list(readings)
        key = self.k("readings", source)
        if lease is not None:
            lease_key = self.k("lease", lease[0])
            for _ in range(LEASE_WRITE_TRIES):
                with self.r.pipeline(transaction=True) as pipe:
                    try:
                        pipe.watch(lease_key)  # type: ignore[no-untyped-call]
                        holder = _text(pipe.get(lease_key) or b"")
                        if holder != lease[1]:
                            raise LeaseLost(lease[0], holder or None)
                        # watching: the pipeline runs commands at once until multi()
                        return self._write(pipe, pipe.hgetall(key), source, key, readings, status)
                    except redis.WatchError:
                        # the lease key changed under the write: most often our own renewer
                        # extended it (a loaded host widens that window); look again who holds it
                        continue
            raise LeaseLost(lease[0], None)
        return self._write(self.r.pipeline(transaction=True), self.r.hgetall(key), source, key,
                           readings, status)

    def _write(self, pipe: Any, current: dict[Any, Any], source: str, key: str,
               readings: list[Reading], status: dict[str, Any]) -> list[Reading]:
        old = {_text(f): Reading.from_json(v) for f, v in current.items()}
        # after an outage (end_readings) every value is news to the history: it had none
        after_gap = bool(self.r.hexists(self.k("source", source), "gap"))
        changed = [
            rd for rd in readings
            if after_gap or rd.ident not in old or old[rd.ident].value != rd.value
            or old[rd.ident].valid_until != rd.valid_until or old[rd.ident].bound != rd.bound
            or old[rd.ident].range != rd.range
            or _new_day(old[rd.ident], rd)
        ]
        encoded: dict[Any, Any] = {rd.ident: rd.to_json() for rd in readings}
        pipe.multi()
        pipe.delete(key)
        if encoded:
            pipe.hset(key, mapping=encoded)
        pipe.sadd(self.k("sources"), source)
        if status:
            pipe.hset(self.k("source", source), mapping={k: _s(v) for k, v in status.items()})
        if after_gap:
            pipe.hdel(self.k("source", source), "gap")
        for rd in changed:
            pipe.xadd(self.k("history"), {"r": encoded[rd.ident]}, maxlen=HISTORY_MAXLEN)
        pipe.incr(self.k("version"))
        pipe.execute()
        self._announce()
        return changed

    def apply_manual(self, source: str, readings: list[Reading], notices: list[dict[str, Any]],
                     status: dict[str, Any]) -> None:
        """Merge manual readings (a workbook) into a source's readings and put notices, in one
        transaction; unlike a feed's write it keeps the source's other readings."""
        key = self.k("readings", source)
        encoded: dict[Any, Any] = {rd.ident: rd.to_json() for rd in readings}
        pipe = self.r.pipeline(transaction=True)
        if encoded:
            pipe.hset(key, mapping=encoded)
        for text in encoded.values():
            pipe.xadd(self.k("history"), {"r": text}, maxlen=HISTORY_MAXLEN)
        for notice in notices:
            pipe.hset(self.k("notices"), notice["id"], json.dumps(notice, ensure_ascii=False))
        pipe.sadd(self.k("sources"), source)
        pipe.hset(self.k("source", source), mapping={k: _s(v) for k, v in status.items()})
        pipe.incr(self.k("version"))
        pipe.execute()
        self._announce()

    def record_status(self, source: str, status: dict[str, Any]) -> None:
        """Record a poll outcome without touching the source's last good data."""
        pipe = self.r.pipeline(transaction=True)
        pipe.sadd(self.k("sources"), source)
        pipe.hset(self.k("source", source), mapping={k: _s(v) for k, v in status.items()})
        pipe.incr(self.k("version"))
        pipe.execute()
        self._announce()

    def end_readings(self, source: str, at: datetime) -> int:
        """A source has failed or was stopped: its values are no longer known to stand. The
        history gets "nothing in force" from `at` for each series whose newest value came
        from this source (its last good data stays on the wall, shown stale), and the
        source's next good poll records all its values again. Returns the series ended."""
        if self.r.hexists(self.k("source", source), "gap"):
            return 0  # ended already, and nothing came in since
        everything = self.all_readings()
        newest: dict[str, Reading] = {}
        for rds in everything.values():
            for rd in rds:
                if rd.ident not in newest or rd.observed_at > newest[rd.ident].observed_at:
                    newest[rd.ident] = rd
        ended = [rd for rd in everything.get(source, []) if newest[rd.ident].source == source]
        pipe = self.r.pipeline(transaction=True)
        for rd in ended:
            gone = Reading(rd.metric, rd.unit, rd.key, None, at, source)  # type: ignore[arg-type]
            pipe.xadd(self.k("history"), {"r": gone.to_json()}, maxlen=HISTORY_MAXLEN)
        pipe.hset(self.k("source", source), "gap", at.isoformat())
        pipe.execute()
        return len(ended)

    def _epoch(self) -> tuple[str, int] | None:
        """What identifies the readings' content: the version (raised in the same transaction
        as every change of them) within this store's life (a random epoch, made anew when the
        keys are gone: deleted, or a store restarted without its data); None when unknown."""
        epoch, version = self.r.mget(self.k("epoch"), self.k("version"))
        if epoch is None:
            self.r.set(self.k("epoch"), uuid.uuid4().hex, nx=True)
            return None
        return _text(epoch), int(version or 0)

    def state(self, tz: Any) -> tuple[int, Clock, tuple[str, int] | None]:
        """The version, the clock and the content mark (_epoch; given to all_readings,
        readings_by_unit, notices_shared and escalations_shared) in one round trip: what a read
        model asks before each build (500 displays after a change)."""
        pipe = self.r.pipeline(transaction=False)
        pipe.mget(self.k("epoch"), self.k("version"))
        pipe.hgetall(self.k("clock"))
        (epoch, version), raw = pipe.execute()
        clock = Clock.from_dict(tz, {_text(k): _text(v) for k, v in raw.items()})
        if epoch is None:
            return int(version or 0), clock, self._epoch()
        return int(version or 0), clock, (_text(epoch), int(version or 0))

    def all_readings(self, mark: tuple[str, int] | None | EllipsisType = ...) -> dict[str, list[Reading]]:
        """Every source's readings. Shared by the callers of one version: read, never change."""
        mark = self._epoch() if mark is ... else mark
        with self._parsed_lock:
            if mark is not None and self._parsed is not None and as_new(self._parsed[0], mark):
                return self._parsed[1]
        with self._reading_lock:  # the displays built side by side after a change read it once
            return self._read_all(mark)

    def _read_all(self, mark: tuple[str, int] | None) -> dict[str, list[Reading]]:
        with self._parsed_lock:
            if mark is not None and self._parsed is not None and as_new(self._parsed[0], mark):
                return self._parsed[1]
        names = sorted(_text(n) for n in self.r.smembers(self.k("sources")))
        pipe = self.r.pipeline(transaction=False)
        for name in names:
            pipe.hvals(self.k("readings", name))
        # a source whose readings are byte for byte as last read keeps its Reading objects: most
        # changes are one source's (or a notice), and the read model's per-unit work then sees
        # the other units' readings as the very same objects (dashboard/domain/readmodel.py)
        with self._parsed_lock:
            raw_before = self._raw
        parsed, raw = {}, {}
        for name, values in zip(names, pipe.execute(), strict=True):
            before = raw_before.get(name)
            parsed[name] = before[1] if before is not None and before[0] == values else [
                Reading.from_json(v) for v in values]
            raw[name] = (values, parsed[name])
        if mark is not None:  # read after the mark: at least as new as it says
            with self._parsed_lock:
                known = self._parsed[0] if self._parsed is not None else None
                if known is None or not as_new(known, mark):  # never an older mark
                    self._parsed = (mark, parsed)
                    self._raw = raw
        return parsed

    def readings_by_unit(self, mark: tuple[str, int] | None | EllipsisType = ...) -> dict[str, list[tuple[str, Reading]]]:
        """all_readings() by unit: (source, reading) pairs. Shared like it: read, never change."""
        parsed = self.all_readings(mark)
        with self._parsed_lock:
            if self._by_unit is not None and self._by_unit[0] is parsed:
                return self._by_unit[1]
        by_unit: dict[str, list[tuple[str, Reading]]] = {}
        for source, readings in parsed.items():
            for rd in readings:
                by_unit.setdefault(rd.unit, []).append((source, rd))
        with self._parsed_lock:
            before = self._by_unit[1] if self._by_unit is not None else {}
        # a unit whose (source, reading) pairs are as before keeps its very list: whoever keeps
        # work per unit knows by identity that nothing of it changed (dashboard/domain/readmodel.py)
        for unit, pairs in by_unit.items():
            old = before.get(unit)
            if old is not None and len(old) == len(pairs) and all(
                    a[1] is b[1] and a[0] == b[0] for a, b in zip(old, pairs, strict=True)):
                by_unit[unit] = old
        with self._parsed_lock:
            self._by_unit = (parsed, by_unit)
        return by_unit

    def _per_version(self, name: str, read: Callable[[], Any], mark: tuple[str, int] | None | EllipsisType = ...) -> Any:
        """What `read` returns, read once per version of the store (and anew while the
        version is unknown). Read after the mark: at least as new as it says."""
        mark = self._epoch() if mark is ... else mark
        with self._parsed_lock:
            known = self._by_version.get(name)
            if mark is not None and known is not None and as_new(known[0], mark):
                return known[1]
        value = read()
        if mark is not None:
            with self._parsed_lock:
                known = self._by_version.get(name)
                if known is None or not as_new(known[0], mark):  # never an older mark
                    self._by_version[name] = (mark, value)
        return value

    def source_status(self, source: str) -> SourceStatus:
        raw = {_text(k): _text(v) for k, v in self.r.hgetall(self.k("source", source)).items()}
        fields: dict[str, Any] = {
            k: v for k, v in raw.items() if k in SourceStatus.__dataclass_fields__ and k != "name"
        }
        if "items" in fields:
            fields["items"] = int(fields["items"] or 0)
        return SourceStatus(name=source, **fields)

    def record_poll(self, source: str, seconds: float, failed: bool) -> None:
        """Count a poll and its time in the source's status (for /metrics on any host)."""
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(self.k("source", source), "last_poll_seconds", f"{seconds:.4f}")
        pipe.hincrby(self.k("source", source), "polls", 1)
        if failed:
            pipe.hincrby(self.k("source", source), "failures", 1)
        pipe.execute()

    def poll_counts(self, source: str) -> dict[str, float]:
        raw = self.r.hmget(self.k("source", source), ["polls", "failures", "last_poll_seconds"])
        return {name: float(_text(v)) for name, v in zip(("polls", "failures", "last_poll_seconds"), raw, strict=True)
                if v is not None and v != b""}

    # -- operator controls ------------------------------------------------------------

    def stop_source(self, source: str) -> None:
        now = self.clock(UTC).now()
        if self.r.sadd(self.k("stopped"), source):  # stopped again: still since the first time
            self.record_status(source, {"stopped_at": now.isoformat()})
        self.end_readings(source, now)
        self.record_status(source, {"state": "stopped"})

    def start_source(self, source: str) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.srem(self.k("stopped"), source)
        pipe.hdel(self.k("source", source), "stopped_at")
        pipe.execute()
        self._bump()

    def is_stopped(self, source: str) -> bool:
        return bool(self.r.sismember(self.k("stopped"), source))

    # -- notices ----------------------------------------------------------------------

    def put_notice(self, notice: dict[str, Any]) -> None:
        self.r.hset(self.k("notices"), notice["id"], json.dumps(notice, ensure_ascii=False))
        self._bump()

    def notices(self) -> list[dict[str, Any]]:
        return [json.loads(v) for v in self.r.hvals(self.k("notices"))]

    def notices_shared(self, mark: tuple[str, int] | None | EllipsisType = ...) -> list[dict[str, Any]]:
        """notices(), read once per version: shared by its callers, read, never change."""
        return self._per_version("notices", self.notices, mark)  # type: ignore[no-any-return]

    # -- clock ------------------------------------------------------------------------

    def set_clock(self, clock: Clock) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(self.k("clock"))
        if clock.shifted:
            mapping: dict[Any, Any] = clock.to_dict()
            pipe.hset(self.k("clock"), mapping=mapping)
        pipe.execute()
        self._bump()

    def clock(self, tz: Any) -> Clock:
        raw = {_text(k): _text(v) for k, v in self.r.hgetall(self.k("clock")).items()}
        return Clock.from_dict(tz, raw)

    # -- change detection -------------------------------------------------------------

    def version(self) -> int:
        return int(self.r.get(self.k("version")) or 0)

    def listen_changes(self, on_change: Callable[[], None], stop: threading.Event,
                       on_lost: Callable[[], None] | None = None, check_every: float = 2.0,
                       lost_after: float = 5.0) -> None:
        """Call `on_change` on every write announced on the change channel, until `stop`
        (and `on_lost` when the connection to the store is lost). Blocks: run it in a
        thread. Reconnects when the store goes away and comes back. The channel is pinged
        every `check_every` seconds: a store that has said nothing for `lost_after` seconds
        (hung, or its host cut off) counts as lost, not as quiet."""
        while not stop.is_set():
            pubsub = self.r.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.k("changes"))
                on_change()  # whatever happened while we were not listening
                heard = pinged = time.monotonic()
                while not stop.is_set():
                    message = pubsub.get_message(timeout=min(1.0, check_every))
                    at = time.monotonic()
                    if message:
                        heard = at
                        if message.get("type") != "pong":
                            on_change()
                    if at - pinged >= check_every:
                        pubsub.ping()
                        pinged = at
                    if at - heard > lost_after:
                        raise redis.ConnectionError(f"no answer on the change channel for {lost_after:g} s")
            except (redis.RedisError, OSError):
                if on_lost is not None:
                    on_lost()
                stop.wait(1.0)
            finally:
                try:
                    pubsub.close()
                except (redis.RedisError, OSError):
                    pass

    def _bump(self) -> None:
        self.r.incr(self.k("version"))
        self._announce()

    def _announce(self) -> None:
        self.r.publish(self.k("changes"), "1")

    # -- leases: one collector process per source -------------------------------------

    def take_lease(self, job: str, holder: str, ttl_ms: int) -> bool:
        """Take the job's lease for `ttl_ms`, or renew it if `holder` has it; False while
        another holder's lease runs."""
        return bool(self._lease_take(keys=[self.k("lease", job)], args=[holder, ttl_ms]))

    def drop_lease(self, job: str, holder: str) -> None:
        """Give the lease up at once (a clean shutdown), if `holder` still has it."""
        self._lease_drop(keys=[self.k("lease", job)], args=[holder])

    def lease_holder(self, job: str) -> str | None:
        value = self.r.get(self.k("lease", job))
        return _text(value) if value else None

    @property
    def _lease_take(self) -> Any:
        if not hasattr(self, "_take_script"):
            self._take_script = self.r.register_script(_TAKE_LEASE)
        return self._take_script

    @property
    def _lease_drop(self) -> Any:
        if not hasattr(self, "_drop_script"):
            self._drop_script = self.r.register_script(_DROP_LEASE)
        return self._drop_script

    # -- display tokens, remembered for when the database cannot be asked -----------------

    def remember_token(self, token_sha256: str, display: str | None) -> None:
        key = self.k("token-ok", token_sha256)
        if display is None:
            self.r.delete(key)
        else:
            self.r.set(key, display, ex=24 * 3600)

    def remembered_token(self, token_sha256: str) -> str | None:
        value = self.r.get(self.k("token-ok", token_sha256))
        return _text(value) if value else None

    # -- history queue ----------------------------------------------------------------

    def ensure_history_group(self) -> None:
        try:
            self.r.xgroup_create(self.k("history"), HISTORY_GROUP, id="0", mkstream=True)
        except redis.ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise

    def history_batch(self, count: int, consumer: str = HISTORY_CONSUMER) -> list[tuple[str, Reading]]:
        """Changes for the history writer: first any that a writer read and did not
        acknowledge (it died, or the database refused them), then new ones."""
        self.ensure_history_group()
        out: list[tuple[str, Reading]] = []
        # pending entries of any consumer (a writer killed mid-write, an older version's
        # per-process names) come to us: each is written once, by its event id
        claimed: Any = self.r.xautoclaim(self.k("history"), HISTORY_GROUP, consumer, 0, "0-0", count=count)
        entries = [e for e in claimed[1] if e and e[1]]  # entries deleted meanwhile come as None
        if not entries:
            resp: Any = self.r.xreadgroup(HISTORY_GROUP, consumer, {self.k("history"): ">"}, count=count)
            entries = [e for _stream, es in resp or [] for e in es]
        for entry_id, fields in entries:
            out.append((_text(entry_id), Reading.from_json(fields[b"r"])))
        return out

    def history_ack(self, ids: list[str]) -> None:
        if ids:
            pipe = self.r.pipeline(transaction=True)
            pipe.xack(self.k("history"), HISTORY_GROUP, *ids)
            pipe.xdel(self.k("history"), *ids)
            pipe.execute()

    def history_backlog(self) -> int:
        return int(self.r.xlen(self.k("history")))

    # -- screens --------------------------------------------------------------------

    def record_heartbeat(self, screen: str, beat: dict[str, Any]) -> None:
        """What a screen last said about itself (display, page, version, data age, seen at).
        Screens that have been silent for a week are forgotten."""
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(self.k("screens"), screen, json.dumps(beat, ensure_ascii=False))
        pipe.zadd(self.k("screens-seen"), {screen: float(beat["seen_at_epoch"])})
        stale = float(beat["seen_at_epoch"]) - SCREEN_FORGET_SECONDS
        gone = [_text(x) for x in self.r.zrangebyscore(self.k("screens-seen"), "-inf", stale)
                if isinstance(x, (bytes, str))]
        if gone:
            pipe.hdel(self.k("screens"), *gone)
        pipe.zremrangebyscore(self.k("screens-seen"), "-inf", stale)
        pipe.execute()

    def screen(self, screen: str) -> dict[str, Any] | None:
        """One screen's last heartbeat (one field of the hash, not all of them)."""
        raw = self.r.hget(self.k("screens"), screen)
        return json.loads(raw) if raw is not None else None

    def screens(self) -> list[dict[str, Any]]:
        return [json.loads(v) for v in self.r.hvals(self.k("screens"))]

    def forget_screen(self, screen: str) -> bool:
        """Forget a screen that is gone (taken down, replaced): /admin no longer lists it
        until it sends a heartbeat again. False when no such screen was known."""
        pipe = self.r.pipeline(transaction=True)
        pipe.hdel(self.k("screens"), screen)
        pipe.zrem(self.k("screens-seen"), screen)
        known, _ = pipe.execute()
        return bool(known)

    # -- escalation set by a person ------------------------------------------------------

    def set_escalation(self, unit: str, entry: dict[str, Any] | None) -> None:
        """A shift lead's level for a unit (level, reason, by, at, valid_until), or None to
        hand the unit back to the rules."""
        pipe = self.r.pipeline(transaction=True)
        if entry is None:
            pipe.hdel(self.k("escalation"), unit)
        else:
            pipe.hset(self.k("escalation"), unit, json.dumps(entry, ensure_ascii=False))
        pipe.incr(self.k("version"))
        pipe.execute()
        self._announce()

    def escalations(self) -> dict[str, dict[str, Any]]:
        return {_text(k): json.loads(v) for k, v in self.r.hgetall(self.k("escalation")).items()}

    def escalations_shared(self, mark: tuple[str, int] | None | EllipsisType = ...) -> dict[str, dict[str, Any]]:
        """escalations(), read once per version: shared by its callers, read, never change."""
        return self._per_version("escalations", self.escalations, mark)  # type: ignore[no-any-return]

    # -- escalation episodes and their actions (issue 18; dashboard/domain/actions.py) ------
    # P episodes           hash  unit -> its current or last episode JSON: id, seq, start, peak,
    #                            raised {level: when it was first reached}, end (absent while
    #                            open); times as epoch seconds
    # P action-acks:<unit> hash  action id -> acknowledgement JSON (episode, state, note, by, at)
    #                            of the unit's current episode; emptied when a new one starts
    _OBSERVE_EPISODES = """
    local out = {}
    local now = tonumber(ARGV[1])
    for i = 2, #ARGV, 4 do
      local unit, level, since, known = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]
      local raw = redis.call('HGET', KEYS[1], unit)
      local cur = raw and cjson.decode(raw) or nil
      local dirty = false
      if since > now then since = now end
      if known == '1' and level >= 2 then
        if cur == nil or cur['end'] ~= nil then
          local start = since
          if cur ~= nil and start < cur['end'] then start = cur['end'] end
          local seq = (cur and cur['seq'] or 0) + 1
          cur = {id = string.format('%.0f', start * 1000) .. '.' .. seq, seq = seq, start = start,
                 peak = level, raised = {}}
          redis.call('DEL', KEYS[2] .. unit)
          dirty = true
        elseif level > cur['peak'] then
          local at = since
          if at < cur['start'] then at = cur['start'] end
          if type(cur['raised']) ~= 'table' then cur['raised'] = {} end
          for l = cur['peak'] + 1, level do cur['raised'][tostring(l)] = at end
          cur['peak'] = level
          dirty = true
        end
      elseif known == '1' and cur ~= nil and cur['end'] == nil then
        local at = now
        if at < cur['start'] then at = cur['start'] end
        cur['end'] = at
        dirty = true
      end
      if dirty then redis.call('HSET', KEYS[1], unit, cjson.encode(cur)) end
      if cur ~= nil then
        if next(cur['raised'] or {}) == nil then cur['raised'] = nil end
        out[unit] = {episode = cur, acks = redis.call('HGETALL', KEYS[2] .. unit)}
      end
    end
    if next(out) == nil then return '{}' end
    return cjson.encode(out)
    """
    _ACKNOWLEDGE_ACTION = """
    local raw = redis.call('HGET', KEYS[1], ARGV[1])
    if not raw then return 'gone' end
    local cur = cjson.decode(raw)
    if cur['end'] ~= nil or cur['id'] ~= ARGV[2] then return 'gone' end
    if redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[4]) == 0 then return 'done' end
    redis.call('INCR', KEYS[3])
    return 'ok'
    """

    def observe_episodes(self, levels: dict[str, tuple[int, float, bool]], now: float) -> dict[str, dict[str, Any]]:
        """Record each unit's level (level, since when as epoch seconds, whether it is known)
        in its escalation episode, atomically: a rise to 2 or more starts an episode (and
        empties the unit's acknowledgements), a higher level raises its peak, level 1 ends
        it; an unknown level (stale figures) changes nothing. Returns, for the units that have
        had an episode, {"episode": {...}, "acks": {action id: {...}}}. Bumps no version: every
        process sees the same levels at the same change and records the same episode."""
        if not levels:
            return {}
        if not hasattr(self, "_observe_script"):
            self._observe_script = self.r.register_script(self._OBSERVE_EPISODES)
        args: list[Any] = [repr(now)]
        for unit, (level, since, known) in levels.items():
            args += [unit, int(level), repr(float(since)), "1" if known else "0"]
        raw = _text(self._observe_script(keys=[self.k("episodes"), self.k("action-acks:")], args=args))
        return {unit: self._episode_of(v) for unit, v in (json.loads(raw) or {}).items()}

    @staticmethod
    def _episode_of(value: dict[str, Any]) -> dict[str, Any]:
        """An episode as Lua's cjson sent it: its acknowledgements (a flat list) as a dict."""
        flat = value.get("acks") or []
        if isinstance(flat, dict):  # cjson encodes an empty list as {}
            flat = []
        acks = {_text(flat[i]): json.loads(flat[i + 1]) for i in range(0, len(flat), 2)}
        return {"episode": value["episode"], "acks": acks}

    def episodes(self) -> dict[str, dict[str, Any]]:
        """Every unit's current or last episode and its acknowledgements, as observe_episodes
        returns them; read only."""
        found = {_text(k): json.loads(v) for k, v in self.r.hgetall(self.k("episodes")).items()}
        pipe = self.r.pipeline(transaction=False)
        for unit in found:
            pipe.hgetall(self.k("action-acks:") + unit)
        acks = pipe.execute()
        return {unit: {"episode": ep, "acks": {_text(a): json.loads(b) for a, b in got.items()}}
                for (unit, ep), got in zip(found.items(), acks, strict=True)}

    def acknowledge_action(self, unit: str, episode: str, action: str, ack: dict[str, Any]) -> str:
        """Mark an action of the unit's open episode `episode` done or not needed, once and
        atomically, and tell the screens: "ok"; "done" when it already was; "gone" when that
        episode has ended or another has begun."""
        if not hasattr(self, "_ack_script"):
            self._ack_script = self.r.register_script(self._ACKNOWLEDGE_ACTION)
        said = _text(self._ack_script(keys=[self.k("episodes"), self.k("action-acks:") + unit, self.k("version")],
                                      args=[unit, episode, action,
                                            json.dumps({**ack, "episode": episode}, ensure_ascii=False)]))
        if said == "ok":
            self._announce()
        return said

    def put_notice_now(self, notice: dict[str, Any]) -> None:
        """Post or change a notice and tell the screens at once."""
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(self.k("notices"), notice["id"], json.dumps(notice, ensure_ascii=False))
        pipe.incr(self.k("version"))
        pipe.execute()
        self._announce()

    # -- sessions and sign-in attempts -------------------------------------------------

    def put_oidc_state(self, state: str, data: dict[str, str], ttl_seconds: int = 600) -> None:
        mapping: dict[Any, Any] = dict(data)
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(self.k("oidc", state), mapping=mapping)
        pipe.expire(self.k("oidc", state), ttl_seconds)
        pipe.execute()

    def pop_oidc_state(self, state: str) -> dict[str, str]:
        """The sign-in that `state` began, once (a replayed state finds nothing)."""
        pipe = self.r.pipeline(transaction=True)
        pipe.hgetall(self.k("oidc", state))
        pipe.delete(self.k("oidc", state))
        raw, _ = pipe.execute()
        return {_text(k): _text(v) for k, v in raw.items()}

    def put_session(self, sid_hash: str, data: dict[str, str], ttl_seconds: int) -> None:
        key = self.k("session", sid_hash)
        mapping: dict[Any, Any] = dict(data)
        index = self.k("user-sessions", data["user"])
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, ttl_seconds)
        pipe.sadd(index, sid_hash)
        pipe.expire(index, ttl_seconds)
        pipe.execute()

    def set_session_field(self, user: str, field: str, value: str) -> int:
        """Set `field` in every live session of `user` (their language, chosen in one of
        them); how many. A session that ends meanwhile is not brought back."""
        ids = [_text(x) for x in self.r.smembers(self.k("user-sessions", user))]
        keys = [self.k("session", i) for i in ids]
        if not keys:
            return 0
        return int(self.r.eval(_SET_IF_ALIVE, len(keys), *keys, field, value))

    def session(self, sid_hash: str) -> dict[str, str]:
        return {_text(k): _text(v) for k, v in self.r.hgetall(self.k("session", sid_hash)).items()}

    def drop_session(self, sid_hash: str) -> None:
        user = self.r.hget(self.k("session", sid_hash), "user")
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(self.k("session", sid_hash))
        if user is not None:
            pipe.srem(self.k("user-sessions", _text(user)), sid_hash)
        pipe.execute()

    def user_sessions(self, user: str) -> int:
        """How many of `user`'s sessions are alive."""
        ids = [_text(x) for x in self.r.smembers(self.k("user-sessions", user))]
        return sum(1 for i in ids if self.r.exists(self.k("session", i)))

    def end_sessions(self, user: str) -> int:
        """End every session of `user` (their password, role or units changed, or they were
        disabled); how many were alive."""
        index = self.k("user-sessions", user)
        ids = [_text(x) for x in self.r.smembers(index)]
        if not ids:
            return 0
        alive = int(self.r.delete(*[self.k("session", i) for i in ids]))
        self.r.srem(index, *ids)
        return alive

    def count_login_refusal(self, who: str, window_seconds: int) -> int:
        """One more attempt refused unheard for `who`; how many since the last look."""
        return self._count(self.k("login-refused", who), window_seconds)

    def take_login_refusals(self, who: str) -> int:
        """Attempts refused unheard for `who` since the last look (and forget them)."""
        pipe = self.r.pipeline(transaction=True)
        pipe.get(self.k("login-refused", who))
        pipe.delete(self.k("login-refused", who))
        count, _ = pipe.execute()
        return int(count or 0)

    def login_rate_ok(self, per_second: int) -> bool:
        """One more sign-in attempt this second, if the site's bounded rate allows it."""
        return self._count(self.k("login-rate", str(int(time.time()))), 2) <= per_second

    def failed_logins(self, who: str) -> int:
        return int(self.r.get(self.k("login-failures", who)) or 0)

    def fail_login(self, who: str, window_seconds: int) -> int:
        """Count one more failed sign-in for `who` (a name or an address); the count is
        forgotten `window_seconds` after the last failure."""
        return self._count(self.k("login-failures", who), window_seconds)

    def _count(self, key: str, expire_seconds: int) -> int:
        """One more in the counter `key`, forgotten `expire_seconds` after its last count."""
        pipe = self.r.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, expire_seconds)
        count, _ = pipe.execute()
        return int(count)

    def clear_failed_logins(self, who: str) -> None:
        self.r.delete(self.k("login-failures", who), self.k("login-blocked", who))

    def block_logins(self, who: str, seconds: int) -> None:
        self.r.set(self.k("login-blocked", who), "1", ex=max(1, seconds))

    def login_blocked_for(self, who: str) -> int:
        """Seconds until `who` may try to sign in again (0: now), rounded up: while the block
        stands it is never 0 (Redis's TTL rounds 0.4 s down to 0, which let an attempt through
        before its wait had passed)."""
        ms = int(self.r.pttl(self.k("login-blocked", who)))
        return 0 if ms <= 0 else -(-ms // 1000)

    # -- tests and tools --------------------------------------------------------------

    def delete_everything(self) -> None:
        """Delete every key under this store's prefix (and nothing else)."""
        for key in self.r.scan_iter(match=self.p.replace("*", r"\*") + "*", count=500):
            self.r.delete(key)


class StoreUrlError(ValueError):
    """REDIS_URL cannot be understood."""


LEASE_WRITE_TRIES = 5  # a write that keeps meeting a changed lease key gives up, as lost


class LeaseLost(Exception):
    """This process no longer holds the lease it wrote under: another collector took over
    (`holder` names it), or the lease ran out before the write and nobody has it (None)."""

    def __init__(self, job: str, holder: str | None = None):
        super().__init__(job)
        self.job, self.holder = job, holder


# Take or renew: set when free, extend when ours; atomic, so two collectors cannot both win.
_SET_IF_ALIVE = """
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('exists', key) == 1 then redis.call('hset', key, ARGV[1], ARGV[2]); n = n + 1 end
end
return n
"""
_TAKE_LEASE = """
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_DROP_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _new_day(old: Reading, new: Reading) -> bool:
    """A figure of today (a plan, today's count) reported again on a new local day is a new
    value for the history even when the number is the same: yesterday's ended at midnight."""
    m = metric_defs.get(new.metric)
    if m is None or m.kind == "gauge":
        return False
    zone = new.observed_at.tzinfo
    return old.observed_at.astimezone(zone).date() != new.observed_at.date()


def connect(url: str) -> redis.Redis:
    """A client for REDIS_URL: redis://, rediss://, unix://, or
    redis-sentinel://host:port[,host:port...]/<master name>[/<db>] for a Sentinel-watched
    primary (the client follows a failover). Timeouts keep a cut network from hanging a
    screen's request: an unreachable store is an error within seconds, not minutes."""
    timeouts: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 3,
                                "health_check_interval": 30}
    if url.startswith("redis-sentinel://"):
        from redis.sentinel import Sentinel

        hosts, _, rest = url.removeprefix("redis-sentinel://").partition("/")
        master, _, db = rest.partition("/")
        if not hosts or not master or not db.isdigit() and db:
            raise StoreUrlError(f"REDIS_URL {url!r}: expected redis-sentinel://host:port[,host:port]/master[/db]")
        nodes = [(h.rpartition(":")[0] or h, int(h.rpartition(":")[2] or 26379)) for h in hosts.split(",")]
        sentinel = Sentinel(nodes, sentinel_kwargs={"socket_timeout": 2, "socket_connect_timeout": 2})
        client: redis.Redis = sentinel.master_for(master, db=int(db or 0), **timeouts)
        return client
    try:
        return redis.Redis.from_url(url, **timeouts)
    except ValueError as err:
        raise StoreUrlError(f"REDIS_URL {url!r}: {err}") from None


def as_new(kept: tuple[str, int], asked: tuple[str, int]) -> bool:
    """Whether what was read at mark `kept` is at least as new as mark `asked` (the same life
    of the store, a version no older): a build that waited its turn while the store changed
    reads what the turns before it read, not the whole store again."""
    return kept[0] == asked[0] and kept[1] >= asked[1]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
