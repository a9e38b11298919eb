#!/usr/bin/env bash
# Installs everything npv needs to build and test on Debian 12 (run as root).
# Idempotent: a second run only checks that the packages are there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git time jq
  libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # libFuzzer for the loader fuzz test: clang 14 cannot compile libstdc++ 12's <expected>.
  clang-19 libclang-rt-19-dev
  # eBPF observer: clang-19 compiles bpf/, libbpf loads it, bpftool makes vmlinux.h and skeletons.
  libbpf-dev bpftool libelf-dev zlib1g-dev
  # The netns lab (agent/lab): `ip netns`, veth, bridge; nftables rulesets inside the lab.
  iproute2 nftables
  # Peer baseline of the observer benchmark (tests/bench/npv_observer_bench).
  bpftrace
  # The Kubernetes API client (agent/kube) and the TLS test API server of its tests.
  libcurl4-openssl-dev libssl-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 3
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: all packages present"
