#!/usr/bin/env bash
# Installs what the fleet lab (test/lab) needs on Debian/Ubuntu: Nix, sshd, namespaces and mount tools.
set -euo pipefail

PACKAGES=(nix-bin openssh-server openssh-client iproute2 sudo opendoas util-linux mount psmisc tar procps)

if [[ "$(id -u)" != 0 ]]; then
  echo "install-lab-deps: must run as root (the lab itself also needs root: network namespaces, mounts)." >&2
  echo "  run: sudo $0" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "install-lab-deps: only Debian/Ubuntu (apt-get) are supported; install: ${PACKAGES[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${PACKAGES[@]}"

# The Debian package starts no sshd for the lab; the lab runs one per host. Nix runs single-user as root.
echo "install-lab-deps: done. Check with: npm run lab -- check"
