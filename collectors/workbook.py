"""The `workbook` source: watches a folder (a network share) and imports a new or changed
workbook through the same importer as the command line and the upload.

A file is read once it has settled: unchanged for SETTLE_SECONDS, or unchanged since the
previous poll (a half-written file is left alone), and only if its content hash was not
processed before (a file merely touched is not imported again). Office's lock files
(`~$…`, `.~lock.…#`) are ignored.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.config import Config, Source
from dashboard.history import History
from dashboard.livestore import LiveStore
from dashboard.workbook.importer import Report, import_bytes

log = logging.getLogger(__name__)
SUFFIXES = {".xlsx", ".ods"}
SETTLE_SECONDS = 2.0  # a file last written this long ago is not being written any more


@dataclass
class FolderWatcher:
    source: Source
    config: Config
    store: LiveStore
    history: History
    data_dir: Path
    seen: dict[Path, tuple[int, int]] = field(default_factory=dict)  # path -> (size, mtime_ns)
    done: set[str] = field(default_factory=set)  # content hashes processed by this watcher

    @property
    def folder(self) -> Path:
        return Path(self.source.address or "")

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
            if not settled:
                continue
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            if sha in self.done:
                continue
            self.done.add(sha)
            report = import_bytes(data, path.name, f"kansio:{self.source.name}", config=self.config,
                                  store=self.store, history=self.history, data_dir=self.data_dir)
            log.info("%s: %s", path.name, "imported" if report.applied else
                     f"not applied ({len(report.errors)} errors)" if report.errors else "already imported")
            reports.append(report)
        if not any(r.applied for r in reports):
            self.store.record_status(self.source.name, {"last_attempt": now, "state": "ok",
                                                         "last_success": now, "kind": "workbook"})
        return reports
