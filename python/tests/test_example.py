"""docs/python/example.py runs as documented."""

import subprocess
import sys

from conftest import ROOT


def test_the_documented_example_runs():
    done = subprocess.run(
        [sys.executable, "docs/python/example.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("weights: alpha = ")
    assert "gate: alpha = " in done.stdout and "theory, relu_gate:" in done.stdout
