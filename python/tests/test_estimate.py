"""tailgate.estimate and tailgate.theory against the CLI on the same inputs."""

import json
import math

import numpy as np
import pytest

import tailgate


def assert_same(py, cli, path="report"):
    """Equal structures; numbers equal to 1e-12 (relative)."""
    if isinstance(cli, dict):
        assert isinstance(py, dict) and py.keys() == cli.keys(), f"{path}: {py} != {cli}"
        for key in cli:
            assert_same(py[key], cli[key], f"{path}.{key}")
    elif isinstance(cli, list):
        assert isinstance(py, list) and len(py) == len(cli), f"{path}: {py} != {cli}"
        for i, (a, b) in enumerate(zip(py, cli)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(cli, float) and not isinstance(cli, bool):
        assert math.isclose(py, cli, rel_tol=1e-12, abs_tol=0.0), f"{path}: {py} != {cli}"
    else:
        assert py == cli, f"{path}: {py!r} != {cli!r}"


def cli_estimate(cli, file, *flags):
    return json.loads(cli("estimate", file, "--format", "json", "--quiet", *flags).stdout)


@pytest.fixture(scope="module")
def heavy():
    """Symmetric α-stable-like rows: Student t with 1.5 degrees of freedom, [4000, 3]."""
    return np.random.default_rng(7).standard_t(1.5, size=(4000, 3))


def test_every_estimator_matches_the_cli_on_rows(cli, tmp_path, heavy):
    file = tmp_path / "x.npy"
    np.save(file, heavy)
    flags = ["--estimator", "all", "--center", "mean", "--subsamples", "40", "--seed", "3"]
    expected = cli_estimate(cli, file, *flags)
    got = tailgate.estimate(heavy, "all", center="mean", subsamples=40, seed=3)
    assert isinstance(got, list)
    assert [r["estimator"] for r in got] == list(tailgate.ESTIMATORS)
    assert_same(got, expected)
    # Bit for bit, in fact: both are the same Rust code on the same doubles.
    assert got == expected


def test_the_estimator_list_is_the_clis(cli, heavy):
    """One registry: `all` reports ESTIMATORS in order, and --help offers each of them."""
    names = [r["estimator"] for r in tailgate.estimate(heavy, "all", subsamples=0)]
    assert names == list(tailgate.ESTIMATORS)
    assert len(names) >= 5 and "powerlaw" in names
    help_text = cli("estimate", "--help").stdout
    for name in tailgate.ESTIMATORS:
        assert f"- {name}:" in help_text, name


@pytest.mark.parametrize(
    "kwargs, flags",
    [
        ({}, []),
        ({"block_sizes": [5, 10, 50]}, ["--block-sizes", "5,10,50"]),
        ({"grid": "sqrt", "center": "median"}, ["--grid", "sqrt", "--center", "median"]),
        ({"pooled": True, "subsamples": 0}, ["--pooled", "--subsamples", "0"]),
        ({"ci": 0.9, "seed": 11}, ["--ci", "0.9", "--seed", "11"]),
    ],
)
def test_mohammadi_options_match_the_cli(cli, tmp_path, heavy, kwargs, flags):
    file = tmp_path / "x.npy"
    np.save(file, heavy)
    kwargs = {"subsamples": 30, **kwargs}
    if "--subsamples" not in flags:
        flags = flags + ["--subsamples", "30"]
    assert_same(tailgate.estimate(heavy, **kwargs), cli_estimate(cli, file, *flags))


@pytest.mark.parametrize("estimator", ["hill", "moments", "pickands"])
def test_order_statistic_estimators_at_a_fixed_k_match_the_cli(cli, tmp_path, heavy, estimator):
    x = heavy[:, 0]
    file = tmp_path / "x.npy"
    np.save(file, x)
    flags = ["--estimator", estimator, "--k", "200", "--subsamples", "25"]
    got = tailgate.estimate(x, estimator, k=200, subsamples=25)
    assert got["k"] == 200 and got["dim"] == 1
    assert_same(got, cli_estimate(cli, file, *flags))


def test_float32_input_is_read_as_the_cli_reads_a_float32_file(cli, tmp_path, heavy):
    x = heavy.astype(np.float32)
    file = tmp_path / "x32.npy"
    np.save(file, x)
    got = tailgate.estimate(x, subsamples=20)
    assert_same(got, cli_estimate(cli, file, "--subsamples", "20"))
    # Not the float64 sample's answer: the values were rounded to float32 first.
    assert got["alpha"] != tailgate.estimate(heavy, subsamples=20)["alpha"]


def test_non_contiguous_lists_and_array_likes_give_the_contiguous_answer(heavy):
    strided = heavy[::2, ::2]
    assert not strided.flags["C_CONTIGUOUS"]
    want = tailgate.estimate(np.ascontiguousarray(strided), subsamples=10)
    assert tailgate.estimate(strided, subsamples=10) == want
    assert tailgate.estimate(strided.tolist(), subsamples=10) == want
    fortran = np.asfortranarray(strided)
    assert tailgate.estimate(fortran, subsamples=10) == want

    class Tensorish:
        """What torch tensors offer numpy: ``__array__``."""

        def __array__(self, dtype=None, copy=None):
            return np.ascontiguousarray(strided)

    assert tailgate.estimate(Tensorish(), subsamples=10) == want


def test_a_recovered_stable_index_is_near_the_truth(cli, tmp_path):
    # A known answer, through the CLI's own α-stable sampler: α = 1.5.
    file = tmp_path / "s.npy"
    cli("sample-stable", "--alpha", "1.5", "--n", "100000", "--seed", "1", "--out", file)
    x = np.load(file)
    got = tailgate.estimate(x, subsamples=0)
    assert abs(got["alpha"] - 1.5) < 0.1
    assert_same(got, cli_estimate(cli, file, "--subsamples", "0"))


@pytest.mark.parametrize(
    "x, kwargs, message",
    [
        (np.zeros((3, 2, 2)), {}, "3 dimensions"),
        (np.array(["a", "b"]), {}, "not a real number type"),
        (np.ones(10) * (1 + 1j), {}, "not a real number type"),
        ([1.0], {}, "fewer than min_samples = 300"),
        (np.arange(1.0, 101.0), {}, "100 samples, fewer than min_samples"),
        (np.arange(1.0, 401.0), {"min_samples": -1}, "min_samples"),
        (np.full(400, 2.0), {}, "constant sample"),
        ([1.0, float("nan"), 2.0], {}, "non-finite"),
        (np.ones((5, 0)), {}, "dimension"),
        (np.arange(400.0), {"estimator": "kernel"}, "expected one of mohammadi, hill"),
        (np.arange(400.0), {"center": "mode"}, "`center`"),
        (np.arange(400.0), {"grid": "huge"}, "`grid`"),
        (np.arange(400.0), {"block_sizes": [1]}, "block"),
        (np.arange(400.0), {"ci": 1.5}, "level"),
        (np.arange(400.0), {"estimator": "hill", "k": 400}, "k = 400"),
    ],
)
def test_bad_input_raises_value_error_with_one_line(x, kwargs, message):
    with pytest.raises(ValueError) as e:
        tailgate.estimate(x, **kwargs)
    text = str(e.value)
    assert message.lower() in text.lower(), text
    assert "\n" not in text


def test_error_messages_are_the_clis(cli, tmp_path):
    file = tmp_path / "x.npy"
    np.save(file, np.arange(400.0))
    done = cli("estimate", file, "--block-sizes", "1", check=False)
    assert done.returncode == 2
    cli_message = done.stderr.strip().removeprefix(f"error: {file}: ")
    with pytest.raises(ValueError) as e:
        tailgate.estimate(np.arange(400.0), block_sizes=[1])
    assert str(e.value) == f"x: {cli_message}"


@pytest.mark.parametrize(
    "model, dim, batch, eta",
    [("linear", 10, 2, 0.3), ("relu_gate", 10, 2, 0.5), ("linear", 3, 1, 5.0), ("relu_gate", 40, 5, 2.5)],
)
def test_theory_matches_the_cli(cli, model, dim, batch, eta):
    flags = ["--model", model, "--dim", dim, "--batch", batch, "--eta", eta]
    expected = json.loads(cli("theory", *flags, "--format", "json").stdout)
    assert tailgate.theory(model, dim, batch, eta) == expected


def test_theory_errors(cli):
    with pytest.raises(ValueError, match="`model`"):
        tailgate.theory("mlp", 10, 1, 0.1)
    done = cli("theory", "--dim", "10", "--batch", "1", "--eta", "-1", check=False)
    assert done.returncode == 2
    with pytest.raises(ValueError) as e:
        tailgate.theory("linear", 10, 1, -1.0)
    assert str(e.value) == done.stderr.strip().removeprefix("error: ")
