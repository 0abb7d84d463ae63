"""Shared helpers: the command-line binary to compare against, the samples, and inputs read
the way the command line reads them."""

import gzip
import importlib
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared"


def required() -> bool:
    """True where every optional piece must be there (CI, or MUKARRAR_REQUIRE_ALL)."""
    return bool(os.environ.get("CI") or os.environ.get("MUKARRAR_REQUIRE_ALL"))


def need(module: str):
    """Imports an optional package: skipped visibly where it is absent, a failure in CI."""
    if required():
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{module} is not installed")


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `mukarrar` binary: $MUKARRAR_BIN, or the debug build (built here when missing)."""
    if os.environ.get("MUKARRAR_BIN"):
        return Path(os.environ["MUKARRAR_BIN"])
    subprocess.run(["cargo", "build", "--quiet", "--bin", "mukarrar"], cwd=ROOT, check=True)
    return ROOT / "target" / "debug" / "mukarrar"


def run(cli: Path, *args, input=None) -> str:
    """Runs the command line, returning stdout; fails the test with stderr on an error."""
    done = subprocess.run(
        [str(cli), "-q", *map(str, args)], capture_output=True, text=True, input=input
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def cli_error(cli: Path, *args) -> str:
    """The error message of a command line that must fail (status 2)."""
    done = subprocess.run([str(cli), "-q", *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 2, (done.stdout, done.stderr)
    return done.stderr


def records(path: Path) -> list:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def text_of(record: dict) -> str:
    """A record's text as the command line reads it: title, then text, joined by a newline;
    absent and empty fields add nothing."""
    parts = []
    for field in ("title", "text"):
        value = record.get(field)
        if value is None or value == "":
            continue
        parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


def texts_and_ids(path: Path):
    rs = records(path)
    return [text_of(r) for r in rs], [str(r["id"]) for r in rs]


def dev_set(name: str) -> Path:
    """A labelled dev set from ../shared; skipped visibly where it is absent (off CI)."""
    path = SHARED / "eval" / "dev" / name
    if not path.exists():
        if required() and os.environ.get("MUKARRAR_REQUIRE_SHARED"):
            pytest.fail(f"{path} is missing")
        pytest.skip(f"{path} is absent (the shared data sets are not on this machine)")
    return path
