#!/usr/bin/env bash
# Brings up a kind cluster with npv agent and the three-tier demo:
#   deploy/kind/up.sh enforcing   kindnet with NetworkPolicy enforcement on: npv reports nothing
#   deploy/kind/up.sh open        kindnet with enforcement off: npv reports silent non-enforcement
#   deploy/kind/up.sh down MODE   deletes the cluster
# Needs docker, kind (>= 0.24), kubectl and network access (images, the kindnet manifest).
# Run from anywhere; the image is built from this checkout.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
kindnet_manifest="https://raw.githubusercontent.com/aojea/kindnet/main/install-kindnet.yaml"
image="npv:0.1.0"

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

mode="${1:-}"
if [[ "$mode" == down ]]; then
  [[ "${2:-}" == enforcing || "${2:-}" == open ]] || usage
  exec kind delete cluster --name "npv-$2"
fi
case "$mode" in
  enforcing) policy=true ;;
  open) policy=false ;;
  *) usage ;;
esac
for tool in docker kind kubectl curl; do
  command -v "$tool" >/dev/null || { echo "up.sh: $tool is not installed" >&2; exit 3; }
done

cluster="npv-$mode"
echo "==> kind cluster $cluster (CNI: kindnet, network policy enforcement: $policy)"
kind create cluster --name "$cluster" --config "$root/deploy/kind/cluster.yaml"
ctx="kind-$cluster"

echo "==> kindnet with --network-policy=$policy"
manifest="$(curl -fsSL "$kindnet_manifest")"
grep -q -- "--network-policy=" <<<"$manifest" ||
  { echo "up.sh: the kindnet manifest no longer has --network-policy; check $kindnet_manifest" >&2; exit 1; }
sed "s/--network-policy=[a-z]*/--network-policy=$policy/" <<<"$manifest" | kubectl --context "$ctx" apply -f -
kubectl --context "$ctx" -n kube-system rollout status daemonset/kindnet --timeout=180s

echo "==> npv image"
docker build -f "$root/deploy/Dockerfile" -t "$image" "$root"
kind load docker-image "$image" --name "$cluster"

echo "==> npv agent"
kubectl --context "$ctx" apply -k "$root/deploy"
kubectl --context "$ctx" -n npv-system rollout status daemonset/npv-agent --timeout=180s

echo "==> three-tier demo and its policies"
kubectl --context "$ctx" apply -f "$root/deploy/demo/three-tier.yaml"
kubectl --context "$ctx" apply -f "$root/examples/three-tier/policies.yaml"
kubectl --context "$ctx" -n production rollout status deployment --timeout=180s

cat <<MSG

Ready. Within a minute (the finding window), see what npv found:
  kubectl --context $ctx -n npv-system logs -l app.kubernetes.io/name=npv --prefix | grep '"type"'
  kubectl --context $ctx -n production describe networkpolicy default-deny-all
  kubectl --context $ctx -n npv-system port-forward ds/npv-agent 9990 & curl -s localhost:9990/metrics | grep npv_findings
MSG
