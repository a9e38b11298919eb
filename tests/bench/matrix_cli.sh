#!/usr/bin/env bash
# Times the whole `npv matrix` command (load, index, 1,000 x 1,000 x 4 verdicts, JSON output) on a
# generated cluster of 1,000 pods in 100 namespaces with 500 policies.
#   tests/bench/matrix_cli.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/tests/bench/npv_bench_gen" 1000 100 500 42 > "$work/cluster.json"
echo "cluster: $(du -h "$work/cluster.json" | cut -f1) of JSON"
for run in 1 2 3; do
  /usr/bin/env time -f "run $run: %e s wall, %M KiB peak RSS" \
    "$build/npv" -q matrix --cluster "$work/cluster.json" \
    --port 80/TCP --port 443/TCP --port 53/UDP --port 5432/TCP -o json > "$work/matrix.json"
done
echo "output: $(du -h "$work/matrix.json" | cut -f1) of JSON"
