#!/usr/bin/env bash
# Installs everything agentrec needs on a fresh Debian machine: the system libraries the Kafka
# client (@confluentinc/kafka-javascript) is built against, a JDK and Maven for the local test
# broker, then the npm dependencies. Run as root (or with sudo). Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

packages=()
# libjemalloc2: the allocator scripts/node.sh preloads (README, "Tuning").
for pkg in zlib1g-dev libssl-dev libsasl2-dev libzstd-dev liblz4-dev pkg-config g++ make python3 libjemalloc2; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || packages+=("$pkg")
done
command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || packages+=(maven)
if [ "${#packages[@]}" -gt 0 ]; then
  echo "install: apt packages: ${packages[*]}"
  apt-get update -qq
  apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# The client's prebuilt binary is downloaded from outside the npm registry; build it from
# source against the system libraries instead (about 2-3 minutes on 2 cores).
echo "install: npm ci"
CKJS_LINKING=dynamic npm ci --no-audit --no-fund
