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

# WebGPU backend (optional): Dawn needs a Vulkan driver. bookworm's Mesa 22 lavapipe lacks a
# feature Dawn requires and gives no adapter, so the software driver comes from bookworm-backports
# (Mesa 25); on a GPU machine the vendor's Vulkan driver serves instead. AGENTREC_SKIP_VULKAN=1 skips it.
if [ "${AGENTREC_SKIP_VULKAN:-0}" != 1 ] && grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
  backports=/etc/apt/sources.list.d/bookworm-backports.sources
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' 'Components: main' \
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$backports"
    apt-get update -qq
  fi
  mesa=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  if ! dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q "install ok installed" || ! dpkg --compare-versions "${mesa:-0}" ge 25; then
    echo "install: apt packages: libvulkan1 mesa-vulkan-drivers (bookworm-backports)"
    apt-get update -qq
    apt-get install -y -qq libvulkan1 >/dev/null
    apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
  fi
fi

# The client's prebuilt binary is downloaded from outside the npm registry; build it from
# source against the system libraries instead (about 2-3 minutes on 2 cores).
echo "install: npm ci"
CKJS_LINKING=dynamic npm ci --no-audit --no-fund
