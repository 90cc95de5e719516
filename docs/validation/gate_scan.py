"""The gate's tail, threshold by threshold: Hill's α̂ at the k largest norms and √k times
the KS distance of the Pareto fitted above the k-th largest (the statistic the power-law
fit minimises, unscaled). Made for docs/manual/estimators.md, "Validation"; run from the repository root:

    tailgate train --engine reduced --model relu_gate --algorithm sgd --dim 10 --batch 1 \
        --eta 0.17 --chains 100000 --steps 2000 --out runs/gate1e5 --quiet
    python docs/validation/gate_scan.py runs/gate1e5 > docs/validation/gate_scan.txt

With α fitted, √k·D has a 5 % point near 1.09 for one k (Stephens 1974, exponential
with estimated scale); scanning many k would need a multiplicity correction.
"""

import sys

import numpy as np

for path in sys.argv[1:]:
    w = np.load(f"{path}/final.npy").astype(np.float64)
    x = np.linalg.norm(w - w.mean(0), axis=1)
    y = np.sort(x)
    n = len(y)
    ly = np.log(y)
    suffix = np.cumsum(ly[::-1])[::-1]
    print(f"{path}: {n} chains")
    for k in np.unique(np.round(np.geomspace(50, n, 30)).astype(int)):
        j = n - k
        a = k / (suffix[j] - k * ly[j])
        d = np.max(np.abs(1 - np.exp(-a * (ly[j:] - ly[j])) - np.arange(k) / k))
        print(f"  k={k:6d} ({k / n:7.4f})  alpha={a:.3f} (se {a / np.sqrt(k):.3f})  sqrt(k)*D={np.sqrt(k) * d:.2f}")
