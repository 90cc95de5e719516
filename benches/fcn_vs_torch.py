#!/usr/bin/env python3
"""tailgate's FCN step (chains batched) against the same net in PyTorch on the CPU.

Not part of CI (PyTorch is a multi-gigabyte wheel). Run it beside a release build:

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy
    cargo build --release
    /tmp/torchvenv/bin/python benches/fcn_vs_torch.py --threads 2

The net is GSZ21's: 784 → 128 → 128 → 10, no biases, ReLU, cross-entropy, plain SGD, on
Fashion-MNIST (Debian's dataset-fashion-mnist). tailgate trains `--chains` nets per step;
PyTorch trains one. A net-step is one SGD step of one net. tailgate's time per step is the
difference of two runs (`--steps` and twice that), so the fixed costs (loading the data,
the evaluations, the per-layer estimates) cancel; PyTorch's is a timed loop after a warm-up.
Both use `--threads` CPU threads (RAYON_NUM_THREADS for tailgate, torch.set_num_threads).
"""

import argparse
import gzip
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

DATA = Path("/usr/share/datasets/fashion-mnist")


def read_idx(path: Path) -> np.ndarray:
    raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def torch_seconds_per_step(batch: int, steps: int, eta: float) -> float:
    images = read_idx(DATA / "train-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0
    images = torch.tensor((images - images.mean()) / images.std(), dtype=torch.float32)
    labels = torch.tensor(read_idx(DATA / "train-labels-idx1-ubyte.gz").astype(np.int64))
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 128, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 128, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10, bias=False),
    )
    opt = torch.optim.SGD(net.parameters(), lr=eta)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)
    order = torch.randperm(len(labels), generator=gen)

    def run(n: int, start: int) -> None:
        for s in range(start, start + n):
            idx = order[(s * batch) % (len(labels) - batch) :][:batch]
            opt.zero_grad()
            loss_fn(net(images[idx]), labels[idx]).backward()
            opt.step()

    run(200, 0)
    t = time.perf_counter()
    run(steps, 200)
    return (time.perf_counter() - t) / steps


def tailgate_seconds_per_step(binary: str, chains: int, batch: int, steps: int, eta: float,
                              threads: int) -> float:
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (steps, 2 * steps):
            out = Path(tmp) / f"run{n}"
            subprocess.run(
                [binary, "train", "--model", "fcn", "--chains", str(chains), "--batch",
                 str(batch), "--eta", str(eta), "--steps", str(n), "--log-every", str(n),
                 "--quiet", "--out", str(out)],
                check=True, env=env, stdout=subprocess.DEVNULL)
            walls.append(json.loads((out / "run.json").read_text())["summary"]["wall_seconds"])
    return (walls[1] - walls[0]) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", default=os.path.expanduser(
        os.environ.get("CARGO_TARGET_DIR", "target") + "/release/tailgate"))
    p.add_argument("--chains", type=int, default=16)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eta", type=float, default=0.01)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{args.threads} threads, torch {torch.__version__}, {args.chains} tailgate chains")
    print("b,tailgate_us_per_net_step,torch_us_per_net_step,ratio_torch_over_tailgate")
    for batch in (1, 10):
        tg = tailgate_seconds_per_step(args.binary, args.chains, batch, args.steps, args.eta,
                                       args.threads) / args.chains
        pt = torch_seconds_per_step(batch, args.steps, args.eta)
        print(f"{batch},{tg * 1e6:.1f},{pt * 1e6:.1f},{pt / tg:.2f}")


if __name__ == "__main__":
    main()
