"""Screens and their heartbeats: each wall display tells the server every half minute which
display and page it shows, its app version and the age of its data. The admin page lists
them; a screen silent for two minutes is flagged, and the kiosk watchdog restarts its
browser."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SILENT_AFTER_SECONDS = 120


class Heartbeat(BaseModel):
    """What a screen may say about itself; anything else is refused."""

    model_config = ConfigDict(extra="ignore")
    screen: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    display: str = Field(min_length=1, max_length=64)
    version: str = Field(default="", max_length=64)
    page: str | None = Field(default=None, max_length=32)
    turn: str | None = Field(default=None, max_length=16)
    lang: str | None = Field(default=None, max_length=8)
    data_as_of: str | None = Field(default=None, max_length=40)
    data_age_s: int | None = Field(default=None, ge=0)
    connection: Literal["online", "offline"] | None = None
    night: Literal["dim", "off"] | None = None
    size: str | None = Field(default=None, max_length=20)


class HeartbeatError(ValueError):
    pass


def parse_heartbeat(body: Any) -> Heartbeat:
    try:
        return Heartbeat.model_validate(body)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in err.errors())
        raise HeartbeatError(problems) from None


def stamp(beat: Heartbeat, seen_at: datetime, address: str | None) -> dict[str, Any]:
    data = beat.model_dump()
    data.update(seen_at=seen_at.isoformat(), seen_at_epoch=seen_at.timestamp(), address=address)
    return data


def screen_state(beat: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The admin's view of one screen: silent (no heartbeat for 2 minutes), offline (it
    cannot reach the server's data), stale (it shows old data) or ok."""
    silent_for = now.timestamp() - float(beat["seen_at_epoch"])
    if silent_for > SILENT_AFTER_SECONDS:
        state = "silent"
    elif beat.get("connection") == "offline":
        state = "offline"
    elif beat.get("data_age_s") is not None and int(beat["data_age_s"]) > 15 * 60 and not beat.get("night"):
        state = "stale"
    else:
        state = "ok"
    return {**beat, "silent_for_s": max(0, round(silent_for)), "state": state}


def screens_view(beats: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    order = {"silent": 0, "offline": 1, "stale": 2, "ok": 3}
    rows = [screen_state(b, now) for b in beats]
    return sorted(rows, key=lambda r: (order[r["state"]], r["display"], r["screen"]))
