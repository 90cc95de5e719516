#!/usr/bin/env bash
# Workload W with tailgate binaries alternated, so that machine drift hits all of them:
#   benches/w_compare.sh ROUNDS BINARY...   (e.g. 3 old/tailgate target/release/tailgate)
# Prints, per run: loop seconds (run.json wall_seconds) and chain-steps/s, process wall,
# peak RSS and α̂. Needs GNU time and python3.
set -euo pipefail
rounds=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for _ in $(seq "$rounds"); do
  for alg in sgd km; do
    for bin in "$@"; do
      out=$tmp/w
      rm -rf "$out"
      /usr/bin/time -f "%e %M" -o "$tmp/time" "$bin" train --quiet --backend flex \
        --algorithm "$alg" --dim 100 --batch 1 --chains 1600 --steps 2000 --eta 0.01 \
        --teacher e1 --out "$out" >/dev/null 2>&1
      read -r wall rss <"$tmp/time"
      python3 - "$out/run.json" "$bin" "$alg" "$wall" "$rss" <<'PY'
import json, sys
path, bin, alg, wall, rss = sys.argv[1:]
s = json.load(open(path))["summary"]
steps = 1600 * 2000 / 1e6
print(f"{bin} {alg}: loop {s['wall_seconds']:.3f} s {steps / s['wall_seconds']:.2f} M/s, "
      f"process {wall} s {steps / float(wall):.2f} M/s, RSS {int(rss) // 1024} MB, alpha {s['alpha']:.4f}")
PY
    done
  done
done
