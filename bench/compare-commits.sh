#!/usr/bin/env bash
# Alternating before/after benchmark of two commits, each built in its own git worktree:
#   bash bench/compare-commits.sh <before-commit> [after-commit, default HEAD] [rounds, default 3]
# Runs dist/bench/recommender-e2e.js (Kafka + RocksDB; broker from KAFKA_BROKERS or 127.0.0.1:9092)
# and dist/bench/kernels.js on each side in turn. Extra e2e settings: E2E_ARGS="--set sessionContext=false".
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
before=${1:?before commit}
after=${2:-HEAD}
rounds=${3:-3}
work=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$work/before" >/dev/null 2>&1 || true; git -C "$repo" worktree remove --force "$work/after" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
for side in before after; do
  commit=$([ "$side" = before ] && echo "$before" || echo "$after")
  git -C "$repo" worktree add --detach "$work/$side" "$commit" >/dev/null
  ln -s "$repo/node_modules" "$work/$side/node_modules"
  (cd "$work/$side" && npx tsc -p tsconfig.json >/dev/null)
done
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
for r in $(seq 1 "$rounds"); do
  for side in before after; do
    echo "=== round $r $side: recommender-e2e"
    (cd "$work/$side" && sh scripts/node.sh dist/bench/recommender-e2e.js --events 100000 --seconds 8 ${E2E_ARGS:-}) |
      grep -E 'pass-through \(baseline\)|agent-recommender,|committed|ratio|latency'
  done
done
for r in $(seq 1 "$rounds"); do
  for side in before after; do
    echo "=== round $r $side: kernels"
    (cd "$work/$side" && BENCH_SECONDS=1 node dist/bench/kernels.js) | grep -E '^\(|kernels |WASM SIMD kernel|hot '
  done
done
