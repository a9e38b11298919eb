#!/usr/bin/env bash
# Times the whole `npv audit` command (load 7 MB of JSON, index, every check, JSON report) on a
# generated cluster of 10,000 pods in 1,000 namespaces with 5,000 policies; wall time and peak RSS
# per run (GNU time), then the best and the median.
#   tests/bench/audit_cli.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/tests/bench/npv_bench_gen" 10000 1000 5000 42 > "$work/cluster.json"
echo "cluster: $(du -h "$work/cluster.json" | cut -f1) of JSON"
for run in $(seq "$runs"); do
  # --fail-on never: the generated cluster has findings, and exit code 1 would stop the script.
  /usr/bin/env time -f "%e %M" -o "$work/time.$run" \
    "$build/npv" -q audit --cluster "$work/cluster.json" -o json --fail-on never > "$work/audit.json"
  read -r wall rss < "$work/time.$run"
  echo "run $run: $wall s wall, $rss KiB peak RSS"
  echo "$wall" >> "$work/walls"
done
sort -n "$work/walls" | awk '{a[NR]=$1} END {printf "best %.2f s, median %.2f s over %d runs\n", a[1], (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2), NR}'
echo "report: $(du -h "$work/audit.json" | cut -f1) of JSON, $(jq '.summary.findings.total' "$work/audit.json") findings"
