#!/usr/bin/env bash
# Runs the Rust, JAX and (if installed) PyTorch step benchmarks in alternation, ROUNDS times,
# on the same machine in the same run; prints JSON lines (one per framework, net and round).
# Not run by CI. Set JAX_PY / TORCH_PY to the Python interpreters that have jax / torch.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
JAX_PY=${JAX_PY:-python3}
TORCH_PY=${TORCH_PY:-python3}
cargo build --release -q -p descent-bench --example compare
for r in $(seq "$ROUNDS"); do
    echo "# round $r $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)"
    target/release/examples/compare
    "$JAX_PY" bench/compare/jax_step.py || echo "# jax unavailable"
    "$TORCH_PY" bench/compare/torch_step.py 2>/dev/null || echo "# torch unavailable"
done
