"""tailgate from Python: α of a weight array, a small training run, the published study.

Run from the repository root after `pip install .`:  python docs/python/example.py
"""

import numpy as np

import tailgate

# 1. The tail index of any array of weights: here a stand-in for a trained layer's
#    weights, 20 000 rows of a symmetric law with tail index 1.5 (Student t, 1.5 d.o.f.).
weights = np.random.default_rng(0).standard_t(1.5, size=(20_000, 8)).astype(np.float32)
est = tailgate.estimate(weights, "powerlaw", center="mean", subsamples=100, seed=1)
lo, hi = est["ci"]["lo"], est["ci"]["hi"]
print(f"weights: alpha = {est['alpha']:.3f} [{lo:.3f}, {hi:.3f}] (power-law fit on row norms, "
      f"xmin {est['xmin']:.2f}, {est['n_tail']} in the tail, goodness of fit p = {est['p_value']:.2f})")
for r in tailgate.estimate(weights[:, 0], "all", subsamples=0):
    alpha = "none" if r["alpha"] is None else f"{r['alpha']:.3f}"
    print(f"  one coordinate, {r['estimator']:<9} alpha = {alpha}")

# 2. A ReLU gate trained by SGD: 1600 chains, d = 10, b = 1, eta = 0.17 (the quickstart
#    cell), on the exact reduced engine; the arrays come back as numpy arrays.
run = tailgate.train(chains=1600, dim=10, batch=1, eta=0.17, steps=2000, engine="reduced")
s = run.summary
lo, hi = s["alpha_ci"]
print(f"gate: alpha = {s['alpha']:.3f} [{lo:.3f}, {hi:.3f}], theory {s['theory']['alpha']:.3f}; "
      f"final {run.final.shape}, {int(run.diverged.sum())} chains diverged")

# 3. What the theory predicts for the same cell.
print("theory, relu_gate:", round(tailgate.theory("relu_gate", 10, 1, 0.17)["alpha"], 3))

# 4. The published study as a DataFrame: the gate's mean alpha-hat by batch size at kappa = 2
#    (that study was made by tailgate 0.2: its alpha column is the Mohammadi estimator).
study = tailgate.load_study("docs/study/summary.csv")
gate = study[(study.model == "relu_gate") & (study.labels == "realizable")
             & (study.label_noise == 1.0) & (study.kappa == 2.0)]
print(gate.groupby(["algorithm", "b"], observed=True)["alpha"].mean().unstack().round(3))
