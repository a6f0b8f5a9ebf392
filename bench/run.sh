#!/usr/bin/env bash
# `npm run bench [N…]`: fleet --help startup, then fleet apply vs ../shared/bench/rebuild-loop.sh (the bash
# nixos-rebuild's calls) on N lab hosts (default 8 and 16; also N=8,16 in the environment; N=0: none), then on
# WEIGHTED_N hosts (default 8 and 16; 0: skip) whose flake costs about 0.4 s per evaluator + 0.8 s per host to evaluate,
# then the network benchmark (bench/network.ts: uplink cap, binary cache, round-trip time, tail, scale; NET_SCENARIOS=… for some).
# Prints figures; exits non-zero if a benchmark could not run.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Both benchmarks run bin/fleet.js: build dist/ when it is missing or older than src/.
stamp=dist/cli/main.js
if [[ ! -f "$stamp" ]] || [[ -n "$(find src tsconfig.json tsconfig.build.json -newer "$stamp" -print -quit)" ]]; then
  echo "bench: building (npm run build)" >&2
  npm run --silent build || exit 1
  touch "$stamp"
fi

failed=0
echo "== fleet --help startup"
npx --no-install tsx bench/help-startup.ts || failed=1
echo
echo "== fleet validate of generated manifests (1,000, 20,000 and 40,000 hosts; HOSTS=… for others), fleet plan --json of 1,000"
npx --no-install tsx bench/manifest-scale.ts || failed=1
echo
echo "== fleet apply vs. the bash nixos-rebuild loop (../shared/bench/rebuild-loop.sh), plain and with evaluation weight"
npx --no-install tsx bench/apply-vs-loop.ts "$@" || failed=1
echo
echo "== closures by the shortest path: uplink cap, binary cache, round-trip time, tail, scale (bench/network.ts)"
npx --no-install tsx bench/network.ts || failed=1
exit "$failed"
