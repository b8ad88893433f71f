"""What a shift lead does from the tablet: correct a value or withdraw a correction, post,
edit and end notices, set or confirm a unit's escalation level. Each is checked whole (every
problem named, in the user's language), then applied to the live store at once (the walls
see it at their next update), and written to the audit log with the value before and after.
Escalation actions are acknowledged by `Acknowledger`, which a shift lead is and which a
manager's page (/history) uses too: one check of scope and role, one audit entry.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, unquote

import redis

from dashboard.config import Config, Display
from dashboard.domain import actions as escalation_actions
from dashboard.domain.actions import OpenAction
from dashboard.domain.freshness import TABLET, Candidate, resolve, status_of
from dashboard.domain.metrics import Metric, normalise_key
from dashboard.domain.readings import Reading
from dashboard.domain.readmodel import build
from dashboard.storage import audit
from dashboard.storage.history import History
from dashboard.storage.livestore import HISTORY_MAXLEN, LiveStore
from dashboard.translate import N_, gettext_in
from dashboard.web.access import Principal, may
from dashboard.web.accounts import User
from dashboard.workbook.schema import fold

SOURCE = TABLET  # a valid correction overrides every other source (dashboard.domain.freshness)
MAX_VALUE = 100_000  # no queue, staff count or wait in a sote-centre is larger
IMPORTANCE = ("info", "tärkeä", "kiireellinen")
# how long a correction stands: an hour, four, to the unit's day's end, or as the metric says
# (`[[metrics]] manual_hours`; a metric that says nothing: to the day's end). A metric's
# manual_hours is also the longest any correction of it stands, whatever is chosen.
VALID_FOR = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "day": None, "metric": None}
MAX_KEY = 80  # a new key's length (a queue, profession, resource or label name)
# the answers to a refused input, in Finnish; shown in the person's language from the
# catalogues (dashboard/locale), as every text of the staff pages is
MESSAGES = {
    "unit": N_("Yksikkö: valitse jokin omista yksiköistäsi"),
    "metric": N_("Mittari: valitse luettelosta"),
    "derived": N_("Mittari: laskettua arvoa ei korjata; korjaa luvut, joista se lasketaan"),
    "key": N_("Tarkenne (jono, ammattiryhmä tai resurssi) puuttuu"),
    "known_key": N_("Tarkenne: valitse luettelosta, tai valitse ”uusi tarkenne” ja kirjoita se (enintään 80 merkkiä)"),
    "no_key": N_("Tarkenne: tällä mittarilla ei ole tarkennetta"),
    "value": N_("Arvo: anna luku 0–100 000"),
    "valid": N_("Voimassa: valitse luettelosta"),
    "text": N_("Teksti: 1–200 merkkiä"),
    "text_sv": N_("Teksti ruotsiksi: enintään 200 merkkiä"),
    "units": N_("Yksiköt: valitse vähintään yksi omista yksiköistäsi"),
    "importance": N_("Tärkeys: info, tärkeä tai kiireellinen"),
    "ends": N_("Päättyy: anna kellonaika (15.30) tai päivä ja kellonaika (5.12. 15.30), myöhemmin kuin nyt ja alku"),
    "starts": N_("Alkaa: anna kellonaika (12.00) tai päivä ja kellonaika (5.12. 8.00), tai jätä tyhjäksi: heti"),
    "level": N_("Taso: 1–4"),
    "reason": N_("Perustelu: 3–200 merkkiä"),
    "notice": N_("Tiedotetta ei löydy (se on ehkä jo päättynyt)"),
    "correction": N_("Korjausta ei löydy (se on ehkä jo peruttu)"),
    "lower": N_("Tason laskeminen on vahvistettava: napauta Vahvista"),
    "hand_back": N_("Sääntöjen mukaiseksi palauttaminen on vahvistettava: napauta Vahvista"),
    "action": N_("Toimenpide: sitä ei ole avoinna tällä yksiköllä (taso on ehkä jo laskenut)"),
    "action_role": N_("Toimenpide: se kuuluu toiselle roolille"),
    "action_done": N_("Toimenpide on jo kuitattu"),
    "action_state": N_("Kuittaus: tehty tai ei tarpeen"),
    "note": N_("Huomautus: enintään 200 merkkiä"),
}


class Unconfirmed(ValueError):
    """A step that lowers a unit's level or hands it back to the rules, asked without the
    confirmation a second tap gives: nothing was changed."""

    def __init__(self, problem: str):
        self.problems = [problem]
        super().__init__(problem)


class Refused(ValueError):
    """Every problem of the input, each naming its field, in the user's language."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


# the two answers to an action, as the pages name them
ACTION_STATES = {"done": N_("Tehty"), "not_needed": N_("Ei tarpeen")}


def action_key(x: OpenAction) -> str:
    """An open action as a button id: its unit, action and episode (ASCII: Dash matches a
    clicked pattern id by an ASCII-escaped copy); read back by Acknowledger.acknowledge_tap."""
    return quote(f"{x.unit}|{x.action.id}|{x.episode}", safe="|._-")


@dataclass
class Acknowledger:
    """A person who acknowledges escalation actions: a shift lead on the tablet, a manager on
    /history (an admin on either). One check and one audit entry for both: the unit must be
    in the person's scope and the action of their role or of a role below, whatever the
    request says."""

    config: Config
    store: LiveStore
    history: History
    user: User
    lang: str = "fi"

    def _say(self, key: str) -> str:
        return gettext_in(self.lang, MESSAGES[key])

    def now(self) -> datetime:
        return self.store.clock(self.config.tz).now()

    def action_units(self) -> list[str]:
        """The units whose actions this person may acknowledge (access.may decides the role):
        a shift lead's units they write to, a manager's scope (sites and units; none: all)."""
        me = Principal(user=self.user)
        return [u.code for u in self.config.units
                if may(me, "unit:write", u.code) or (may(me, "history") and self.user.covers(u.code))]

    def open_actions(self) -> list[OpenAction]:
        """The open actions of the person's units' current episodes that are theirs to
        acknowledge (their role's and those of the roles below), lowest level first."""
        mine = self.action_units()
        found = escalation_actions.current(self.config, self.store, mine)
        return [x for unit in mine for x in found.get(unit, [])
                if escalation_actions.may_acknowledge(self.user.role, x.action)]

    def acknowledge_tap(self, button: Any, notes: Any, done_type: str) -> str:
        """Acknowledge the action a tapped button names (its pattern id: `type`, and
        action_key's `id`), with the note of the same id among `notes` (the note fields'
        pattern State); returns the answer given. The id is only a claim: acknowledge checks
        the unit, the action, the episode and the role."""
        claimed = button.get("id") if isinstance(button, dict) else None
        claimed = claimed if isinstance(claimed, str) else ""
        unit, action, episode = (unquote(claimed).split("|", 2) + ["", "", ""])[:3]
        note = next((n.get("value") for n in (notes if isinstance(notes, list) else [])
                     if isinstance(n, dict) and isinstance(n.get("id"), dict) and n["id"].get("id") == claimed), "")
        state = "done" if isinstance(button, dict) and button.get("type") == done_type else "not_needed"
        self.acknowledge(unit, action, episode, state, note if isinstance(note, str) else "")
        return state

    def acknowledge(self, unit: str, action: str, episode: str, state: str, note: str) -> dict[str, Any]:
        """Mark an open action of the unit's current episode done or not needed, with a note;
        once per episode, and audited (with the episode's start, so the history can tell how
        long it took)."""
        problems = []
        if unit not in self.action_units():
            problems.append(self._say("unit"))
        if state not in escalation_actions.STATES:
            problems.append(self._say("action_state"))
        note = (note or "").strip()
        if len(note) > 200:
            problems.append(self._say("note"))
        if problems:
            raise Refused(problems)
        item = next((x for x in escalation_actions.current(self.config, self.store, [unit]).get(unit, [])
                     if x.action.id == action and x.episode == episode), None)
        if item is None:
            raise Refused([self._say("action")])
        if not escalation_actions.may_acknowledge(self.user.role, item.action):
            raise Refused([self._say("action_role")])
        now = self.now()
        ack = {"episode": episode, "state": state, "note": note, "by": self.user.name, "at": now.isoformat()}
        said = self.store.acknowledge_action(unit, episode, action, ack)
        if said != "ok":
            raise Refused([self._say("action_done" if said == "done" else "action")])
        minutes = (now - item.opened_at).total_seconds() / 60
        tz = self.config.tz_of(unit)
        audit.record(self.history, self.user.name, "escalation-action",
                     {"unit": unit, "action": action, "level": item.action.level, "episode": episode,
                      "episode_start": item.episode_start.astimezone(tz).isoformat(),
                      "opened_at": item.opened_at.astimezone(tz).isoformat(), "due": item.due.astimezone(tz).isoformat(), "minutes": round(minutes, 1), "overdue": now > item.due},
                     before=None, after=ack)
        return ack


@dataclass
class ShiftLead(Acknowledger):
    """What a shift lead does from the tablet (the module's doc); the escalation actions as
    every Acknowledger does them."""

    def units(self) -> list[str]:
        """The units this person may write to (access.may decides, as everywhere)."""
        me = Principal(user=self.user)
        return [u.code for u in self.config.units if may(me, "unit:write", u.code)]

    def _end_of_day(self, now: datetime, unit: str) -> datetime:
        """The unit's next local midnight (its site's zone)."""
        tz = self.config.tz_of(unit)
        return datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(0), tzinfo=tz)

    # -- a correction ------------------------------------------------------------------------

    def metrics(self) -> dict[str, Metric]:
        """What a correction may be of: the built-in metrics and the centre's own, but neither
        a series nor one computed from others (`derived`: the walls compute it from its inputs,
        so a correction of an input corrects it)."""
        return {k: m for k, m in self.config.catalogue().items() if not m.series and m.derived is None}

    def keys(self, unit: str, metric: str) -> list[str]:
        """The keys a correction of `metric` at `unit` takes without being told that the key is
        new: the metric's configured keys (`[[metrics]] keys`), then those its values in the
        live store have — the rows of the tablet's board of today. Empty for a metric of the
        unit alone."""
        m = self.config.catalogue().get(metric)
        if m is None or not m.keyed_by:
            return []
        seen = {rd.key for _source, rd in self.store.readings_by_unit().get(unit, [])
                if rd.metric == metric and rd.key}
        return list(dict.fromkeys([*m.keys, *sorted(seen)]))

    def correct(self, unit: str, metric: str, key: str | None, value: Any, valid_for: str, *,
                new_key: bool = False) -> Reading:
        """A correction of one figure. Its key must be one the figure has (`keys`) unless
        `new_key` says that a new one is meant: a typo must not make a row of its own on the
        walls. A metric of the unit alone takes no key."""
        problems = []
        if unit not in self.units():
            problems.append(self._say("unit"))
        m = self.metrics().get(metric)
        if m is None:
            known = self.config.catalogue().get(metric)
            problems.append(self._say("derived" if known is not None and known.derived is not None else "metric"))
        key = normalise_key(key)
        if m is not None and m.keyed_by:
            if not key:
                problems.append(self._say("key"))
            elif len(key) > MAX_KEY or (not new_key and key not in self.keys(unit, metric)):
                problems.append(self._say("known_key"))
        elif m is not None and key:
            problems.append(self._say("no_key"))
        try:
            number = float(str(value).replace(",", ".").replace("\u00a0", "").replace(" ", "").strip())
            if not math.isfinite(number) or not 0 <= number <= MAX_VALUE:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(self._say("value"))
            number = 0.0
        if valid_for not in VALID_FOR:
            problems.append(self._say("valid"))
        if problems:
            raise Refused(problems)
        assert m is not None
        now = self.now()
        until = self._until(now, unit, m, valid_for)
        shown = int(number) if number.is_integer() else round(number, max(1, m.decimals))
        reading = Reading(metric, unit, key if m.keyed_by else "", shown, now, SOURCE,
                          manual=True, entered_by=f"{self.user.name} (tabletti)", valid_until=until)
        before = self._current(metric, unit, reading.key)
        self.store.apply_manual(SOURCE, [reading], [], {"state": "ok", "kind": "tablet",
                                                        "last_success": now.isoformat()})
        audit.record(self.history, self.user.name, "correction",
                     {"metric": metric, "unit": unit, "key": reading.key, "valid_until": until.isoformat()},
                     before=before, after=shown)
        return reading

    def _until(self, now: datetime, unit: str, m: Metric, valid_for: str) -> datetime:
        """When a correction ends: as chosen, but never later than the metric's manual_hours."""
        span = VALID_FOR[valid_for]
        longest = timedelta(hours=m.manual_hours) if m.manual_hours else None
        if valid_for == "metric":
            span = longest
        until = now + span if span else self._end_of_day(now, unit)
        return min(until, now + longest) if longest else until

    def withdraw(self, unit: str, metric: str, key: str | None) -> tuple[Reading, dict[str, Any] | None]:
        """Withdraw a correction at once: it leaves the live store, the value it overrode
        shows again, and the history is told that nothing of the tablet's is in force from
        now on (a reading without a value), so no rollup carries the correction on. Bound to
        the person's units like a correction; audited with the value before and after.
        Returns the withdrawn correction and what the walls show now (None: nothing)."""
        if unit not in self.units():
            raise Refused([self._say("unit")])
        key = normalise_key(key)
        ident = f"{metric}|{unit}|{key}"
        hash_key, now = self.store.k("readings", SOURCE), self.now()
        end = Reading(metric, unit, key, None, now, SOURCE, manual=True,  # type: ignore[arg-type]
                      entered_by=f"{self.user.name} (tabletti, peruttu)")
        for _attempt in range(10):  # another correction written meanwhile: look again
            with self.store.r.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(hash_key)  # type: ignore[no-untyped-call]
                    raw = pipe.hget(hash_key, ident)
                    if raw is None:
                        raise Refused([self._say("correction")])
                    pipe.multi()
                    pipe.hdel(hash_key, ident)
                    pipe.xadd(self.store.k("history"), {"r": end.to_json()}, maxlen=HISTORY_MAXLEN)
                    pipe.incr(self.store.k("version"))
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        else:
            raise redis.WatchError(f"{ident}: the tablet's corrections kept changing")
        self.store.r.publish(self.store.k("changes"), "1")
        withdrawn, shown = Reading.from_json(raw), self._shown(metric, unit, key)
        audit.record(self.history, self.user.name, "correction-withdraw",
                     {"metric": metric, "unit": unit, "key": key},
                     before={"value": withdrawn.value, "entered_by": withdrawn.entered_by,
                             "valid_until": withdrawn.valid_until.isoformat() if withdrawn.valid_until else None},
                     after=shown)
        return withdrawn, shown

    def figure(self, metric: str, unit: str, key: str) -> tuple[Candidate | None, Candidate | None]:
        """What the walls show now for one figure, and — when that is a correction — what it
        overrides (dashboard.domain.freshness decides, as for the walls); (None, None): nothing."""
        clock = self.store.clock(self.config.tz)
        now, polls = clock.now(), self.config.poll_intervals(clock.speed)
        found = [(rd, status_of(rd, now, polls.get(source, 60), self.config.tz_of(unit))[0])
                 for source, rds in self.store.all_readings().items() for rd in rds
                 if (rd.metric, rd.unit, rd.key) == (metric, unit, normalise_key(key))]
        return resolve(found) if found else (None, None)

    def _shown(self, metric: str, unit: str, key: str) -> dict[str, Any] | None:
        shown, _ = self.figure(metric, unit, key)
        if shown is None:
            return None
        rd, status = shown
        return {"value": rd.value, "source": rd.source, "status": status,
                "observed_at": rd.observed_at.isoformat()}

    def _current(self, metric: str, unit: str, key: str) -> Any:
        found = None
        for rds in self.store.all_readings().values():
            for rd in rds:
                if (rd.metric, rd.unit, rd.key) == (metric, unit, key) and (found is None or rd.observed_at > found.observed_at):
                    found = rd
        return None if found is None else {"value": found.value, "source": found.source,
                                           "observed_at": found.observed_at.isoformat()}

    # -- notices ---------------------------------------------------------------------------------

    def notices(self) -> list[dict[str, Any]]:
        """Notices not yet ended that concern the user's units, soonest ending first."""
        now = self.now()
        mine = set(self.units())
        out = [n for n in self.store.notices()
               if datetime.fromisoformat(n["ends"]) > now and (n["unit"] == "kaikki" or n["unit"] in mine)]
        return sorted(out, key=lambda n: (n["ends"], n["id"]))

    def same_text(self, notice: dict[str, Any]) -> list[dict[str, Any]]:
        """The other notices not yet ended of the same unit with the same text (a notice
        posted twice shows twice on the wall)."""
        said = fold(notice["text"])
        return [n for n in self.notices() if n["id"] != notice["id"] and n["unit"] == notice["unit"]
                and fold(n["text"]) == said]

    def post_notice(self, text: str, units: list[str], importance: str, public: bool, ends: str,
                    notice_id: str | None = None, text_sv: str = "", starts: str = "") -> list[dict[str, Any]]:
        """Post a notice to each chosen unit (or `kaikki`), or change the one `notice_id`;
        `text_sv`, when given, is shown in the Swedish turns of bilingual screens. `starts`
        and `ends`: a clock time of today ("12.00") or a day and a time ("5.12. 8.00") on each
        unit's clock; `starts` blank: now (or, for a change, when it started)."""
        problems = []
        text = (text or "").strip()
        text_sv = (text_sv or "").strip()
        if not 1 <= len(text) <= 200:
            problems.append(self._say("text"))
        if len(text_sv) > 200:
            problems.append(self._say("text_sv"))
        allowed = set(self.units()) | ({"kaikki"} if not self.user.units else set())
        if not units or any(u not in allowed for u in units):
            problems.append(self._say("units"))
        if importance not in IMPORTANCE:
            problems.append(self._say("importance"))
        now = self.now()
        before = None
        if notice_id:
            before = next((n for n in self.notices() if n["id"] == notice_id), None)
            if before is None:
                problems.append(self._say("notice"))
        # "15.30" is the clock time of each unit's own site (every unit: the installation's)
        zone_of = {u: self.config.notice_tz(u) for u in units or ["kaikki"]}
        start_of: dict[str, datetime | None] = {
            u: (_moment(starts, now.astimezone(z)) if (starts or "").strip()
                else datetime.fromisoformat(before["starts"]) if before else now) for u, z in zone_of.items()}
        end_of = {u: _moment(ends, now.astimezone(z)) for u, z in zone_of.items()}
        if any(start is None for start in start_of.values()):
            problems.append(self._say("starts"))
        if any(end is None or end <= now or ((start := start_of[u]) is not None and end <= start)
               for u, end in end_of.items()):
            problems.append(self._say("ends"))
        if problems:
            raise Refused(problems)
        posted = []
        for i, unit in enumerate(units):
            start, end = start_of[unit], end_of[unit]
            assert start is not None and end is not None
            nid = notice_id if notice_id and i == 0 else f"tabletti-{uuid.uuid4().hex[:12]}"
            notice = {"id": nid, "unit": unit, "importance": importance, "public": public, "text": text,
                      "starts": start.isoformat(), "ends": end.isoformat(),
                      "entered_by": self.user.name, **({"text_sv": text_sv} if text_sv else {})}
            self.store.put_notice_now(notice)
            audit.record(self.history, self.user.name, "notice-edit" if before else "notice",
                         {"id": nid, "unit": unit}, before=before, after=notice)
            posted.append(notice)
        return posted

    def end_notice(self, notice_id: str) -> dict[str, Any]:
        before = next((n for n in self.notices() if n["id"] == notice_id), None)
        if before is None:
            raise Refused([self._say("notice")])
        after = {**before, "ends": self.now().isoformat(), "ended_by": self.user.name}
        self.store.put_notice_now(after)
        audit.record(self.history, self.user.name, "notice-end", {"id": notice_id}, before=before, after=after)
        return after

    # -- escalation --------------------------------------------------------------------------------

    def current_level(self, unit: str) -> dict[str, Any]:
        """The unit's level in force now, as the walls show it (the read model's escalation
        object of the unit: level, source, reasons, by...)."""
        view = Display(id="tabletti", title="tabletti", units=[unit])
        model = build(self.config, view, self.store, self.history, every_metric=True)
        return dict(model.data["escalation"]["units"][unit])

    def set_escalation(self, unit: str, level: Any, reason: str, *, confirmed: bool = False) -> dict[str, Any]:
        """Set or confirm a unit's level until the end of the day; its reason is shown on the
        walls with the name of who set it. A level lower than the one in force now (set or
        ruled) is set only when `confirmed`: otherwise Unconfirmed, and nothing changes."""
        problems = []
        if unit not in self.units():
            problems.append(self._say("unit"))
        try:
            lvl = int(level)
            if not 1 <= lvl <= 4:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(self._say("level"))
            lvl = 1
        reason = (reason or "").strip()
        if not 3 <= len(reason) <= 200:
            problems.append(self._say("reason"))
        if problems:
            raise Refused(problems)
        if not confirmed and lvl < int(self.current_level(unit)["level"]):
            raise Unconfirmed(self._say("lower"))
        now = self.now()
        before = self.store.escalations().get(unit)
        entry = {"level": lvl, "reason": reason, "by": self.user.name, "at": now.isoformat(),
                 "valid_until": self._end_of_day(now, unit).isoformat()}
        self.store.set_escalation(unit, entry)
        audit.record(self.history, self.user.name, "escalation", {"unit": unit, "confirmed": confirmed},
                     before=before, after=entry)
        return entry

    def clear_escalation(self, unit: str, *, confirmed: bool = False) -> None:
        """Hand the unit back to the rules; when a person's level stands, only `confirmed`."""
        if unit not in self.units():
            raise Refused([self._say("unit")])
        before = self.store.escalations().get(unit)
        if before is not None and not confirmed:
            raise Unconfirmed(self._say("hand_back"))
        self.store.set_escalation(unit, None)
        audit.record(self.history, self.user.name, "escalation-clear", {"unit": unit}, before=before, after=None)


_MOMENT = re.compile(r"^(?:(\d{1,2})\.(\d{1,2})\.(\d{4})?\s+(?:klo\s+|kl\.?\s+)?)?(\d{1,2})(?:[.:](\d{2}))?$")


def _moment(text: str, now: datetime) -> datetime | None:
    """"15.30", "15:30" or "15" today, or "5.12. 15.30" / "5.12.2026 klo 15" on that day (a day
    without its year: this year's), in the zone of `now`; None for anything else."""
    m = _MOMENT.match(fold(text or ""))
    if not m:
        return None
    try:
        day = date(int(m[3] or now.year), int(m[2]), int(m[1])) if m[1] else now.date()
        return datetime.combine(day, time(int(m[4]), int(m[5] or 0)), tzinfo=now.tzinfo)
    except ValueError:
        return None
