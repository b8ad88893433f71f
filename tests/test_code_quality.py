"""ruff (lint) over the tree and mypy (strict) over the modules where the logic lives:
part of the suite, so CI fails on a lint or type error like on any other."""

import subprocess
import sys

from tests.conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_ruff_finds_nothing():
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_logic():
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
