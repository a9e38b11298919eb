#!/usr/bin/env bash
# Times `npv lab` end to end on the upstream e2e model (examples/e2e-model: 9 pods, 288 probes)
# with the enforcing dataplane: 3 runs, wall time plus the JSON summary's probe count and
# setup/probing/teardown times. Needs root and eBPF, like `npv lab` itself; jq.
#   tests/bench/lab_bench.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
src=$(cd "$(dirname "$0")/../.." && pwd)
npv="$build/npv"
[[ -x $npv ]] || { echo "no npv binary at $npv" >&2; exit 2; }
command -v jq > /dev/null || { echo "jq is needed" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf '%-4s %8s %7s %7s %9s %10s %11s %9s\n' run wall_ms probes agree setup_ms probing_ms teardown_ms probes/s
for run in 1 2 3; do
  start=$(date +%s%N)
  code=0
  "$npv" -q lab --cluster "$src/examples/e2e-model" --dataplane enforcing -o json \
    > "$work/lab.json" 2> "$work/lab.err" || code=$?
  wall=$(( ($(date +%s%N) - start) / 1000000 ))
  if [[ $code -ne 0 ]]; then
    echo "run $run: npv lab exited $code" >&2
    cat "$work/lab.err" >&2
    exit 1
  fi
  jq -r --arg run "$run" --arg wall "$wall" '.summary |
    [$run, $wall, .probes, .agree, .setup_ms, .probing_ms, .teardown_ms,
     (if .probing_ms > 0 then (.probes * 1000 / .probing_ms | floor) else "-" end)] | @tsv' \
    "$work/lab.json" |
    while IFS=$'\t' read -r r w p a s pr t ps; do
      printf '%-4s %8s %7s %7s %9s %10s %11s %9s\n' "$r" "$w" "$p" "$a" "$s" "$pr" "$t" "$ps"
    done
done
