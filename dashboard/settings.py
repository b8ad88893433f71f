"""Where things live, from the command line and the environment.

--config / OHJAUSTAULU_CONFIG      the TOML file (default config/ohjaustaulu.toml)
--data-dir / OHJAUSTAULU_DATA      embedded live store, SQLite file, archives (default ./data)
REDIS_URL                          an external Redis instead of the embedded one
DATABASE_URL                       PostgreSQL instead of the SQLite file
OHJAUSTAULU_KEY_PREFIX             overrides [site] key_prefix (several installations, one Redis)
OHJAUSTAULU_DB_SCHEMA              a PostgreSQL schema of its own for the history tables
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dashboard.config import Config, load_config
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore


@dataclass
class Settings:
    config: Config
    data_dir: Path
    redis_url: str | None
    database_url: str | None
    key_prefix: str
    db_schema: str | None

    @classmethod
    def load(cls, config_path: str | None, data_dir: str | None) -> Settings:
        config = load_config(config_path)
        return cls(
            config=config,
            data_dir=Path(data_dir or os.environ.get("OHJAUSTAULU_DATA") or "data").resolve(),
            redis_url=os.environ.get("REDIS_URL") or None,
            database_url=os.environ.get("DATABASE_URL") or None,
            key_prefix=os.environ.get("OHJAUSTAULU_KEY_PREFIX") or config.site.key_prefix,
            db_schema=os.environ.get("OHJAUSTAULU_DB_SCHEMA") or None,
        )

    def store(self, supervise: bool = False) -> LiveStore:
        """The live store; `supervise` for a long-running command (demo, serve, collect),
        which keeps an embedded one running (dashboard/storage/embedded.py)."""
        return LiveStore.open(self.redis_url, self.data_dir, self.key_prefix, supervise)

    def history(self) -> History:
        """The history database, migrated; a database that held changes before the rollups
        existed (or before their rules changed, or with other time zone or opening hours)
        gets them built once, here."""
        from dashboard.domain import accessfigures
        from dashboard.storage import rollups

        history = History.open(self.database_url, self.data_dir, self.db_schema)
        hours = self.config.hours_specs()
        zones = self.config.zones()
        if rollups.needs_rebuild(history, zones, hours):
            rollups.rebuild(history, zones, hours)
        # cases judged by other rules than the configured ones are judged again
        accessfigures.ensure_judged(history, self.config.access.versions())
        return history
