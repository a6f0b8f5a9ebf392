#!/usr/bin/env bash
# `npm run demo`: installs what a fresh Debian machine lacks (lab packages, node packages, the build),
# then runs scripts/demo.ts: a real `fleet apply` against three lab hosts, torn down afterwards.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf 'demo: %s\n' "$*" >&2; }

# 1. Root: the lab makes network namespaces and mounts, and installing its packages needs root too.
if [[ "$(id -u)" != 0 ]]; then
  say "the demo needs root: its lab hosts are network namespaces with their own mounts and sshd,"
  say "and missing system packages are installed with apt-get."
  say "  run: sudo npm run demo   (or in a root container)"
  exit 1
fi

# 2. System packages of the lab (Nix, sshd, namespaces).
on_path() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }
missing=()
for cmd in nix nix-env nix-store sshd ssh ssh-keygen ip unshare nsenter setsid mount sudo tar; do
  on_path "$cmd" || missing+=("$cmd")
done
if ((${#missing[@]} > 0)); then
  say "installing the lab's system packages (missing: ${missing[*]})"
  bash scripts/install-lab-deps.sh
fi

# 3. Node packages.
if [[ ! -x node_modules/.bin/tsx || ! -d node_modules/listr2 ]]; then
  say "installing node packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# 4. The build: dist/ must exist and be newer than every file under src/ (and the build config).
stamp=dist/cli/main.js
if [[ ! -f "$stamp" ]] || [[ -n "$(find src tsconfig.json tsconfig.build.json -newer "$stamp" -print -quit)" ]]; then
  say "building (npm run build)"
  npm run --silent build
  touch "$stamp"
fi

# 5. The demo itself; its exit code is fleet's.
exec npx --no-install tsx scripts/demo.ts "$@"
