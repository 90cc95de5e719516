"""tailgate.train, Run and load_run against `tailgate train` with the same config."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import tailgate

SMALL = {"chains": 64, "dim": 4, "batch": 2, "eta": 0.4, "steps": 300, "seed": 5}
#: run.json fields that time the run (the only ones that differ between two runs).
TIMING = ("wall_seconds", "chain_steps_per_second")


def same_folders(a: pathlib.Path, b: pathlib.Path):
    """Equal file lists; .npy files equal byte for byte; run.json equal but for timings."""
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for file in a.iterdir():
        if file.suffix == ".npy":
            assert file.read_bytes() == (b / file.name).read_bytes(), file.name
    ra, rb = (json.loads((d / "run.json").read_text()) for d in (a, b))
    for record in (ra, rb):
        for key in TIMING:
            record["summary"].pop(key)
    assert ra == rb


@pytest.mark.parametrize(
    "config",
    [
        SMALL,
        {**SMALL, "algorithm": "km", "labels": "binary01", "record_every": 50},
        {**SMALL, "engine": "reduced", "chains": 3000, "dim": 6},
        {**SMALL, "model": "linear", "label_noise": 1.0},
    ],
    ids=["gate-sgd", "gate-km-binary01-recorded", "reduced", "linear"],
)
def test_train_writes_the_clis_bytes(cli, tmp_path, config):
    file = tmp_path / "config.json"
    file.write_text(json.dumps(config))
    cli("train", "--config", file, "--out", tmp_path / "cli", "--quiet")
    run = tailgate.train(config, out=tmp_path / "py")
    same_folders(tmp_path / "cli", tmp_path / "py")
    assert run.path == tmp_path / "py"
    assert run.config["chains"] == config["chains"]
    assert run.diverged.shape == (config["chains"],) and run.diverged.dtype == np.bool_
    if config.get("engine") == "reduced":
        assert run.coords.shape == (config["chains"], 2)
    else:
        assert run.coords is None
    assert run.final.shape == (config["chains"], config["dim"])
    np.testing.assert_array_equal(run.final, np.load(tmp_path / "cli" / "final.npy"))
    if config.get("record_every"):
        assert run.iterates.shape[1:] == (config["chains"], config["dim"])


def test_a_config_file_with_keys_on_top_is_the_cli_with_flags(cli, tmp_path):
    file = tmp_path / "config.json"
    file.write_text(json.dumps(SMALL))
    cli("train", "--config", file, "--seed", "9", "--eta", "0.2", "--out", tmp_path / "cli", "--quiet")
    run = tailgate.train(file, out=tmp_path / "py", seed=9, eta=0.2)
    same_folders(tmp_path / "cli", tmp_path / "py")
    assert run.config["seed"] == 9 and run.config["eta"] == 0.2


def test_without_out_the_run_is_in_memory_and_the_same(tmp_path):
    kept = tailgate.train(SMALL, out=tmp_path / "kept")
    loose = tailgate.train(**SMALL)
    assert loose.path is None
    for name in ("final", "average", "diverged"):
        np.testing.assert_array_equal(getattr(loose, name), getattr(kept, name))
    assert loose.summary["alpha"] == kept.summary["alpha"]
    assert "alpha=" in repr(loose)
    again = tailgate.load_run(tmp_path / "kept")
    np.testing.assert_array_equal(again.final, kept.final)
    assert again.record == kept.record and again.alpha == kept.alpha


@pytest.mark.parametrize(
    "keys, error, message",
    [
        ({"chainz": 3}, ValueError, "unknown field `chainz`"),
        ({"chains": 0}, ValueError, "invalid config: `chains`"),
        ({"eta": "fast"}, ValueError, "invalid type"),
        ({"eta": float("nan")}, ValueError, "not plain JSON"),
        ({"engine": "reduced", "model": "mlp"}, ValueError, "engine"),
    ],
)
def test_bad_configs_raise_value_error_naming_the_key(tmp_path, keys, error, message):
    with pytest.raises(error) as e:
        tailgate.train({**SMALL, **keys}, out=tmp_path / "run")
    assert message in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "run").exists()
    assert list(tmp_path.iterdir()) == []


def test_bad_config_messages_are_the_clis(cli, tmp_path):
    file = tmp_path / "config.json"
    file.write_text(json.dumps({**SMALL, "chains": 0}))
    done = cli("train", "--config", file, "--out", tmp_path / "x", check=False)
    assert done.returncode == 2
    with pytest.raises(ValueError) as e:
        tailgate.train(file, out=tmp_path / "y")
    assert str(e.value) == done.stderr.strip().removeprefix("error: ")


def test_file_errors_raise_os_error(tmp_path):
    with pytest.raises(OSError, match="missing.json"):
        tailgate.train(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{ not json")
    with pytest.raises(ValueError, match="bad.json"):
        tailgate.train(tmp_path / "bad.json")
    (tmp_path / "taken").mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        tailgate.train(SMALL, out=tmp_path / "taken")
    with pytest.raises(OSError, match="run.json"):
        tailgate.load_run(tmp_path / "taken")
    (tmp_path / "taken" / "run.json").write_text('{"config": {}}')
    with pytest.raises(ValueError, match="run.json"):
        tailgate.load_run(tmp_path / "taken")


def ticks_during(work):
    """(seconds `work()` took, ticks another Python thread made meanwhile, one per ms)."""
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    start = time.perf_counter()
    work()
    end = time.perf_counter()
    done.set()
    counter.join()
    return end - start, len([t for t in ticks if start < t < end])


def test_the_gil_is_released_while_training(tmp_path):
    took, ticks = ticks_during(lambda: tailgate.train({**SMALL, "chains": 400, "steps": 3000}))
    # With the GIL held the other thread could not tick at all until training ended.
    assert took > 0.2, "training too short to tell"
    assert ticks > 20, f"{ticks} ticks in {took:.2f} s of training"


def test_the_gil_is_released_while_estimating():
    x = np.random.default_rng(1).standard_t(1.5, size=200_000)
    took, ticks = ticks_during(lambda: tailgate.estimate(x, subsamples=400))
    assert took > 0.2, "estimation too short to tell"
    assert ticks > 20, f"{ticks} ticks in {took:.2f} s of estimation"


@pytest.mark.parametrize(
    "keys",
    ["chains=2000, dim=10, steps=10**8", "engine='reduced', chains=10**6, dim=10, steps=2*10**6"],
    ids=["burn", "reduced"],
)
def test_ctrl_c_stops_training_promptly_and_leaves_nothing(tmp_path, keys):
    out = tmp_path / "run"
    # A shell starts background jobs with SIGINT ignored, and Python then installs no handler
    # (CI may run so): restore the default one, which raises KeyboardInterrupt.
    script = (
        "import signal, tailgate\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "print('ready', flush=True)\n"
        f"tailgate.train({keys}, out={str(out)!r})\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # training has started (the import is done)
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    try:
        _, stderr = child.communicate(timeout=30)
    finally:
        child.kill()
    assert time.perf_counter() - sent < 10
    assert child.returncode != 0
    assert "KeyboardInterrupt" in stderr
    assert list(tmp_path.iterdir()) == [], os.listdir(tmp_path)
