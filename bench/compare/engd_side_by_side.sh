#!/usr/bin/env bash
# ENGD-W on P8 problem A, descent beside the engineered and the straightforward JAX, alternating
# in one run (ROUNDS rounds; one core pinned with taskset -c $CORE, then both cores), for the
# README's performance section. Not run by CI. JAX_PY: the Python interpreter that has jax.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
CORE=${CORE:-1}
JAX_PY=${JAX_PY:-python3}
cargo build --release -q -p descent-lab --example engd_step
for r in $(seq "$ROUNDS"); do
    echo "# round $r $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)"
    echo -n "descent 1 core: "
    taskset -c "$CORE" target/release/examples/engd_step --only engd_w | sed -n 1p
    echo -n "jax 1 core: "
    taskset -c "$CORE" "$JAX_PY" bench/compare/engd_w_jax_fast.py --both | tr '\n' ' '
    echo
    echo -n "descent 2 cores: "
    target/release/examples/engd_step --only engd_w --threads 2 | sed -n 1p
    echo -n "jax 2 cores: "
    "$JAX_PY" bench/compare/engd_w_jax_fast.py
done
