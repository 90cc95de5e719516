"""The power-law fit against the `powerlaw` package (Alstott et al.; Clauset et al. 2009)
on the same samples and the same candidate thresholds."""

import numpy as np
import pytest

import tailgate

powerlaw = pytest.importorskip("powerlaw")

# The package warns on every fit that its `sigma` property is deprecated.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def sample(alpha, seed):
    """A Pareto(α) tail above 1 over a uniform body on (0.3, 1): a threshold to find."""
    rng = np.random.default_rng(seed)
    tail = (1.0 - rng.random(2000)) ** (-1.0 / alpha)
    return np.concatenate([tail, rng.uniform(0.3, 1.0, 500)])


@pytest.mark.parametrize("alpha,seed", [(1.2, 3), (1.7, 4), (1.4, 5)])
def test_xmin_and_alpha_equal_the_package(alpha, seed):
    x = sample(alpha, seed)
    min_tail = 50
    y = np.sort(x)
    # The package searches the distinct values v with lo <= v < hi, less the largest of
    # them; this range leaves exactly tailgate's candidates: every distinct value with at
    # least `min_tail` samples at or above it (xmin_candidates=0: every one).
    fit = powerlaw.Fit(x, xmin=(y[0], y[len(y) - min_tail + 2]), verbose=0)
    ours = tailgate.estimate(
        x, "powerlaw", min_tail=min_tail, xmin_candidates=0, subsamples=0, gof_resamples=0
    )
    assert ours["xmin"] == pytest.approx(fit.xmin, rel=1e-6)
    # The package's alpha is the density exponent, 1 + the tail index.
    assert ours["alpha"] == pytest.approx(fit.alpha - 1.0, rel=1e-6)
    assert ours["ks"] == pytest.approx(fit.power_law.D, rel=1e-6)
    assert ours["n_tail"] == int(np.sum(x >= fit.xmin))


def test_goodness_of_fit_separates_a_power_law_from_a_lognormal():
    # A tail of at least 1000 of 20 000 samples: enough of the lognormal's curvature
    # for the test to see it (its farthest few hundred samples alone can pass for a
    # power law).
    rng = np.random.default_rng(11)
    lognormal = rng.lognormal(0.0, 1.0, 20_000)
    pareto = (1.0 - rng.random(20_000)) ** (-1.0 / 1.5)
    kwargs = dict(min_tail=1000, subsamples=0, gof_resamples=100, seed=2)
    good = tailgate.estimate(pareto, "powerlaw", **kwargs)
    bad = tailgate.estimate(lognormal, "powerlaw", **kwargs)
    assert good["p_value"] > 0.1, good
    assert bad["p_value"] < 0.1, bad


def test_too_few_samples_is_a_value_error_naming_min_samples():
    with pytest.raises(ValueError, match="min_samples"):
        tailgate.estimate(np.arange(1.0, 100.0), "powerlaw")
