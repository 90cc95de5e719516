"""tailgate's power-law fit against the `powerlaw` package, side by side on one machine.

Not run in CI (it takes minutes): `pip install . powerlaw` into a virtual environment, then
`python benches/powerlaw_vs_package.py`. Prints one line per (n, candidate set): both
wall times, their ratio, and whether xmin and α agree.
"""

import os
import time
import warnings

import numpy as np
import powerlaw

import tailgate

warnings.filterwarnings("ignore")


def sample(n, seed=0):
    """A Pareto(1.5) tail over a uniform body: 80 % tail, 20 % body."""
    rng = np.random.default_rng(seed)
    tail = (1.0 - rng.random(int(0.8 * n))) ** (-1.0 / 1.5)
    return np.concatenate([tail, rng.uniform(0.3, 1.0, n - len(tail))])


def timed(f):
    start = time.perf_counter()
    out = f()
    return out, time.perf_counter() - start


def main():
    print(f"threads: {os.cpu_count()}; powerlaw {powerlaw.__version__}")
    min_tail = 50
    # The same candidates (every distinct value leaving >= 50 samples) in both.
    for n in [1_000, 3_000, 10_000, 30_000]:
        x = sample(n)
        y = np.sort(x)
        pkg, t_pkg = timed(lambda: powerlaw.Fit(x, xmin=(y[0], y[n - min_tail + 2]), verbose=0))
        ours, t_ours = timed(
            lambda: tailgate.estimate(
                x, "powerlaw", min_tail=min_tail, xmin_candidates=0, subsamples=0, gof_resamples=0
            )
        )
        same = np.isclose(ours["xmin"], pkg.xmin, rtol=1e-6) and np.isclose(
            ours["alpha"], pkg.alpha - 1, rtol=1e-6
        )
        print(
            f"n={n:>9} every candidate: package {t_pkg:8.3f} s, tailgate {t_ours:7.4f} s, "
            f"ratio {t_pkg / t_ours:8.1f}x, same fit: {same}"
        )
    # tailgate's default (400 candidates) where the package's exact search is out of reach.
    for n in [100_000, 1_000_000, 10_000_000]:
        x = sample(n)
        ours, t_ours = timed(lambda: tailgate.estimate(x, "powerlaw", subsamples=0, gof_resamples=0))
        print(f"n={n:>9} tailgate default: {t_ours:7.3f} s, alpha {ours['alpha']:.4f}, n_tail {ours['n_tail']}")


if __name__ == "__main__":
    main()
