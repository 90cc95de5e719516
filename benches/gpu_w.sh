#!/usr/bin/env bash
# Workload W at 10⁵ chains on wgpu (the performance issue's GPU figure), for a machine
# with a GPU and a release binary built with `--features wgpu`:
#   benches/gpu_w.sh BINARY [CHAINS]
# Each case runs 200 and 1000 steps; the difference removes the start-up (adapter, kernel
# JIT and autotuning in the first steps), so the steady rate is
#   chains × 800 / (loop₁₀₀₀ − loop₂₀₀)  chain-steps/s  (loop = run.json wall_seconds).
# Prints the device name first. Needs python3.
set -euo pipefail
bin=$1
chains=${2:-100000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v nvidia-smi >/dev/null && nvidia-smi -L || true
for rng in philox xoshiro; do
  for alg in km sgd; do
    for steps in 200 1000; do
      out=$tmp/$rng-$alg-$steps
      /usr/bin/time -f "%e" -o "$tmp/time" "$bin" train --quiet --backend wgpu \
        --data-rng "$rng" --algorithm "$alg" --dim 100 --batch 1 --chains "$chains" \
        --steps "$steps" --eta 0.01 --teacher e1 --out "$out" >/dev/null 2>"$tmp/err" ||
        { echo "$rng $alg $steps: failed"; tail -3 "$tmp/err"; continue; }
      echo "$(cat "$tmp/time")" >"$out/process_seconds"
    done
    python3 - "$tmp/$rng-$alg" "$chains" "$rng" "$alg" <<'PY'
import json, sys
base, chains, rng, alg = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
try:
    loop = {k: json.load(open(f"{base}-{k}/run.json"))["summary"]["wall_seconds"] for k in (200, 1000)}
except FileNotFoundError:
    sys.exit(0)
per_step = (loop[1000] - loop[200]) / 800
print(f"{rng} {alg}: loop 200 steps {loop[200]:.2f} s, 1000 steps {loop[1000]:.2f} s; "
      f"steady {per_step * 1e3:.3g} ms per step, {chains / per_step / 1e6:.3g} M chain-steps/s")
PY
  done
done
