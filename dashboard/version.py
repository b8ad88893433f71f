"""The running app's version as screens see it: the package version and a digest of the
page assets, so that a screen notices a deployment (and reloads at a safe moment) even when
the package version was not bumped."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "layouts" / "assets"


@cache
def app_version() -> str:
    try:
        base = version("ohjaustaulu")
    except PackageNotFoundError:  # run from a source tree that was never installed
        base = "0+source"
    digest = hashlib.sha256()
    for path in sorted(ASSETS.glob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return f"{base}+{digest.hexdigest()[:8]}"
