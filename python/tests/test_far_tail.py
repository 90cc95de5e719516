"""tailgate.far_tail and a run's far tail: the CLI's numbers, Hill and the GPD fit
recomputed independently on the written far_tail.npy (numpy; scipy's genpareto), and the
refusals."""

import json
import math

import numpy as np
import pytest
import scipy.optimize
import scipy.stats

import tailgate


@pytest.fixture(scope="module")
def series():
    """|X| of a Kesten recursion X ← AX + B, log A ~ N(−α s²/2, s²), α = 1.5: [3000, 300]."""
    rng = np.random.default_rng(3)
    steps, chains, s, alpha = 3000, 300, 0.5, 1.5
    x = np.zeros(chains)
    out = np.empty((steps, chains))
    for t in range(steps):
        a = np.exp(-alpha * s * s / 2 + s * rng.standard_normal(chains))
        x = a * x + rng.standard_normal(chains)
        out[t] = np.abs(x)
    return out


@pytest.fixture(scope="module")
def run():
    """A reduced-engine gate run whose far tail is recorded (2000 × 3000 post-burn-in steps)."""
    return tailgate.train(
        engine="reduced", chains=2000, dim=10, eta=0.17, steps=4000, burn_in=1000,
        teacher="e1", subsamples=20, gof_resamples=0,
    )


def test_far_tail_is_the_clis_ladder(cli, tmp_path, series):
    file = tmp_path / "series.npy"
    np.save(file, series)
    out = cli("estimate", "--far-tail", str(file), "--burn-in", "500", "--resamples", "40",
              "--format", "json")
    want = json.loads(out.stdout)
    got = tailgate.far_tail(series, burn_in=500, resamples=40)
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    flipped = tailgate.far_tail(series.T.copy(), burn_in=500, resamples=40, layout="chains,steps")
    assert flipped == got
    assert got["samples"] == 300 * 2500
    assert got["ladder"][0]["fraction"] == 1e-3


def test_hill_on_the_written_file_equals_the_summary(run):
    table = run.far_tail
    far = run.summary["far_tail"]
    assert table.shape == (far["kept"], 3) and table.dtype == np.float64
    # Descending, ties by (chain, step): SGD's gate stands still at an inactive step, so
    # a chain repeats its value and ties are common; a rung is the k largest samples.
    order = np.lexsort((table[:, 2], table[:, 1], -table[:, 0]))
    values = table[order, 0]
    assert len(far["ladder"]) >= 1
    for rung in far["ladder"]:
        k = rung["exceedances"]
        u = values[k]
        hill = k / np.sum(np.log(values[:k]) - np.log(u))
        assert math.isclose(rung["hill"], hill, rel_tol=1e-12)
        assert rung["threshold"] == u
        assert rung["chains"] == len(np.unique(table[order[:k], 1]))


def _tight(func, x0, args=(), disp=0):
    return scipy.optimize.fmin(func, x0, args=args, xtol=1e-12, ftol=1e-12,
                               maxiter=20000, maxfun=40000, disp=0)


def test_gpd_equals_scipy_on_the_written_file(run, series):
    checked = 0
    far = tailgate.far_tail(series, burn_in=500, resamples=0)
    sources = [(run.far_tail[:, 0], r) for r in run.summary["far_tail"]["ladder"]]
    values = series[500:].ravel()
    sources += [(values, r) for r in far["ladder"]]
    for x, rung in sources:
        if rung["gpd_alpha"] is None:
            continue
        # The k largest samples over X₍ₖ₊₁₎: ties with it are excesses of 0.
        top = np.sort(x)[::-1][: rung["exceedances"]]
        excess = top - rung["threshold"]
        c, loc, scale = scipy.stats.genpareto.fit(excess, floc=0, optimizer=_tight)
        assert loc == 0
        assert math.isclose(1 / c, rung["gpd_alpha"], rel_tol=1e-4), (c, rung)
        assert math.isclose(scale, rung["gpd_sigma"], rel_tol=1e-4)
        # scipy's default optimiser stops earlier; ours is at least as likely.
        c0, _, s0 = scipy.stats.genpareto.fit(excess, floc=0)
        ll = scipy.stats.genpareto.logpdf(excess, 1 / rung["gpd_alpha"], 0, rung["gpd_sigma"])
        assert ll.sum() >= scipy.stats.genpareto.logpdf(excess, c0, 0, s0).sum() - 1e-6
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize(
    "x, kwargs, message",
    [
        (np.ones(100), {}, "2-D"),
        (np.ones((100, 1)), {}, "chain"),
        (np.ones((100, 3)), {"burn_in": 100}, "burn-in"),
        (np.ones((100, 3)), {"keep": 0.0}, "keep"),
        (np.ones((100, 3)), {"keep": 1.0}, "keep"),
        (np.array([[1.0, np.nan], [2.0, 3.0]]), {}, "non-finite"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), {}, "non-finite"),
    ],
)
def test_bad_series_raise_value_error(x, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tailgate.far_tail(x, **kwargs)


def test_a_run_says_what_its_alpha_is(run):
    assert "final-iterate" in run.summary["alpha_estimand"]
    assert "‖w − ā·w*‖" in run.summary["far_tail"]["statistic"]
