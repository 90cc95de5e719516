"""Workload W of issue 6 in plain numpy: the other side of tailgate's throughput ratio.

d = 100, b = 1, 1600 chains, 2000 steps, realizable labels with sigma = 1, float32, a fresh
Gaussian x per chain and step; SGD (w += eta/b sum r 1{w.x > 0} x) and KM (no indicator).
Prints chain-steps per second of the loop. Usage: python3 benches/numpy_w.py [sgd|km]
"""
import sys
import time

import numpy as np

R, D, B, ETA, K, SIGMA = 1600, 100, 1, 0.01, 2000, 1.0


def run(algorithm: str) -> float:
    rng = np.random.default_rng(0)
    teacher = np.zeros(D, dtype=np.float32)
    teacher[0] = 1.0
    w = (rng.standard_normal((R, D), dtype=np.float32) / np.sqrt(D)).astype(np.float32)
    start = time.perf_counter()
    for _ in range(K):
        x = rng.standard_normal((R, B, D), dtype=np.float32)
        noise = rng.standard_normal((R, B), dtype=np.float32)
        y = np.maximum(x @ teacher, 0.0) + SIGMA * noise
        z = np.einsum("rbd,rd->rb", x, w)
        r = y - np.maximum(z, 0.0)
        if algorithm == "sgd":
            r = r * (z > 0)
        w += (ETA / B) * np.einsum("rb,rbd->rd", r, x)
    elapsed = time.perf_counter() - start
    assert np.isfinite(w).all()
    return R * K / elapsed


if __name__ == "__main__":
    for alg in sys.argv[1:] or ["sgd", "km"]:
        print(f"numpy W {alg}: {run(alg) / 1e6:.3f} M chain-steps/s (numpy {np.__version__})")
