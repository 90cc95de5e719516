"""Shared fixtures: the CLI binary the Python package is compared with."""

import json
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _cli_binary() -> str:
    """``$TAILGATE_BIN``, else the debug binary that ``cargo build`` makes (built here)."""
    given = os.environ.get("TAILGATE_BIN")
    if given:
        return given
    if shutil.which("cargo") is None:
        pytest.skip("no TAILGATE_BIN and no cargo to build the CLI")
    subprocess.run(["cargo", "build", "--quiet", "--bin", "tailgate"], cwd=ROOT, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return str(pathlib.Path(json.loads(meta.stdout)["target_directory"]) / "debug" / "tailgate")


@pytest.fixture(scope="session")
def cli():
    """Runs the ``tailgate`` binary; returns its stdout (fails the test on a non-zero exit)."""
    binary = _cli_binary()

    def run(*args, check=True):
        done = subprocess.run(
            [binary, *map(str, args)], capture_output=True, text=True, cwd=ROOT
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tailgate {' '.join(map(str, args))}: {done.stderr}")
        return done

    return run
