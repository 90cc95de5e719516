#!/usr/bin/env bash
# The nets' study on a GPU (wgpu), for a machine with one and a release binary built with
# `--features wgpu`:   benches/gpu_nets.sh BINARY OUT
# Runs configs/networks/gsz21_fashion.json with every cell on wgpu (the cell ids change
# with the backend), then its report; prints the wall time. Needs Debian's
# dataset-fashion-mnist (or the four IDX files under /usr/share/datasets/fashion-mnist).
set -euo pipefail
bin=$1
out=$2
command -v nvidia-smi >/dev/null && nvidia-smi -L || true
start=$(date +%s)
"$bin" sweep --config configs/networks/gsz21_fashion.json --out "$out" --backend wgpu --jobs 1
echo "sweep: $(( $(date +%s) - start )) s"
"$bin" report "$out"
