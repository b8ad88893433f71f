"""The `workbook` source: watches a folder (a network share) and imports a new or changed
workbook through the same importer as the command line and the upload.

A file is read once it has settled: unchanged for SETTLE_SECONDS, or unchanged since the
previous poll (a half-written file is left alone), and only if its content hash was not
processed before (a file merely touched is not imported again). Office's lock files
(`~$…`, `.~lock.…#`) are ignored.

A file refused as one that could hurt a reader (over the size limit, a zip bomb, entities,
sheets reaching past the limits, a reader that had to be stopped: reader.Unreadable.dangerous)
is moved to the sibling folder REFUSED (`hylätyt/`), so no poll, restart or other collector
reads it again; its reason goes to the source's status (last_error) and to the audit log
(`workbook-set-aside`). Other refused files (a wrong value in a cell, not a spreadsheet at
all) stay where they are for the shift lead to correct and save again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dashboard.config import Config, Source
from dashboard.storage import audit
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.workbook.guard import MAX_BYTES, mb
from dashboard.workbook.importer import Report, import_bytes
from dashboard.workbook.messages import msg
from dashboard.workbook.parse import Problem

log = logging.getLogger(__name__)
SUFFIXES = {".xlsx", ".ods"}
SETTLE_SECONDS = 2.0  # a file last written this long ago is not being written any more
REFUSED = "hylätyt"  # beside the watched files: where a file that could hurt a reader is set aside


@dataclass
class FolderWatcher:
    source: Source
    config: Config
    store: LiveStore
    history: History
    data_dir: Path
    seen: dict[Path, tuple[int, int]] = field(default_factory=dict)  # path -> (size, mtime_ns)
    done: set[str] = field(default_factory=set)  # content hashes processed by this watcher
    dangerous: dict[str, str] = field(default_factory=dict)  # content hash -> why it was set aside
    stuck: dict[Path, tuple[int, int]] = field(default_factory=dict)  # set aside but not movable

    @property
    def folder(self) -> Path:
        return Path(self.source.address or "")

    @property
    def who(self) -> str:
        return f"kansio:{self.source.name}"

    def candidates(self) -> list[Path]:
        return sorted(
            p for p in self.folder.iterdir()
            if p.is_file() and p.suffix.lower() in SUFFIXES
            and not p.name.startswith(("~$", ".~lock", "."))
        )

    def poll(self) -> list[Report]:
        """Import what has settled since the last poll; record the source's status."""
        now = self.store.clock(self.config.tz).now()
        if self.store.is_stopped(self.source.name):
            return []
        try:
            files = self.candidates()
        except OSError as err:
            previous = self.store.source_status(self.source.name)
            if previous.state != "failing":
                log.warning("source %s failed: %s", self.source.name, err)
            self.store.record_status(self.source.name, {
                "last_attempt": now, "last_error": f"{self.folder}: {err.strerror or err}",
                "last_error_at": now, "state": "failing", "kind": "workbook"})
            return []
        reports = []
        for path in files:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            signature = (stat.st_size, stat.st_mtime_ns)
            quiet = time.time() - stat.st_mtime >= SETTLE_SECONDS
            settled = quiet or self.seen.get(path) == signature
            self.seen[path] = signature
            if not settled or self.stuck.get(path) == signature:
                continue
            try:
                report = self._read(path, signature, now)
            except FileNotFoundError:  # taken away between the listing and the reading
                continue
            if report is not None:
                reports.append(report)
        if not any(r.applied for r in reports):
            self.store.record_status(self.source.name, {"last_attempt": now, "state": "ok",
                                                         "last_success": now, "kind": "workbook"})
        return reports

    def _read(self, path: Path, signature: tuple[int, int], now: datetime) -> Report | None:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # a file over the limit is never read whole
        if len(data) > MAX_BYTES:
            lang = self.config.site.language
            size = max(signature[0], len(data))
            problem = Problem("", 0, "", path.name, msg(lang, "too_big", size=mb(size), limit=mb(MAX_BYTES)))
            self._set_aside(path, signature, problem.message, None, now)
            return Report(False, "", False, errors=[problem.as_dict()], dangerous=True)
        sha = hashlib.sha256(data).hexdigest()
        if sha in self.dangerous:  # the same file again: aside at once
            self._set_aside(path, signature, self.dangerous[sha], sha, now)
            return None
        if sha in self.done:
            return None
        self.done.add(sha)
        report = import_bytes(data, path.name, self.who, config=self.config,
                              store=self.store, history=self.history, data_dir=self.data_dir)
        log.info("%s: %s", path.name, "imported" if report.applied else
                 f"not applied ({len(report.errors)} errors)" if report.errors else "already imported")
        if report.dangerous:
            self.dangerous[sha] = report.errors[0]["message"]
            self._set_aside(path, signature, self.dangerous[sha], sha, now)
        return report

    def _set_aside(self, path: Path, signature: tuple[int, int], reason: str, sha: str | None,
                   now: datetime) -> None:
        """Move the file to REFUSED/ (a name already there gets the time added); say so in the
        source's status, the audit log and the log."""
        aside = path.parent / REFUSED / path.name
        if aside.exists():
            aside = aside.with_name(f"{path.stem}-{now:%Y%m%d-%H%M%S}{path.suffix}")
        try:
            aside.parent.mkdir(exist_ok=True)
            path.rename(aside)
            moved: str | None = f"{REFUSED}/{aside.name}"
        except OSError as err:  # a read-only share: leave it, and do not read it again
            log.warning("%s: could not move it to %s/: %s", path.name, REFUSED, err)
            self.stuck[path] = signature
            moved = None
        log.warning("%s refused and %s: %s", path.name, f"moved to {moved}" if moved else "left in place", reason)
        self.store.record_status(self.source.name, {
            "last_attempt": now, "last_error_at": now, "kind": "workbook",
            "last_error": f"{path.name} → {moved}: {reason}" if moved else f"{path.name}: {reason}"})
        audit.record(self.history, self.who, "workbook-set-aside",
                     {"file": path.name, "moved_to": moved, "sha256": sha, "reason": reason})
