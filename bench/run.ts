// `npm run bench [N…]`: fleet --help start-up, manifest scale, then fleet apply against
// ../shared/bench/rebuild-loop.sh (the bash nixos-rebuild's calls) on lab hosts, plain and with
// evaluation weight, then how closures travel on the lab's real network shape (see each file's
// header for its knobs). Prints figures; exits non-zero if a
// benchmark could not run. Needs root (the lab).
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $, cd, glob } from 'zx';

cd(join(dirname(fileURLToPath(import.meta.url)), '..'));

// Every benchmark runs bin/fleet.js: build dist/ when it is missing or older than src/.
const stamp = 'dist/cli/main.js';
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if ((await glob(['src/**', 'tsconfig.json', 'tsconfig.build.json'])).some((file) => statSync(file).mtimeMs > built)) {
  console.error('bench: building (npm run build)');
  await $({ stdio: 'inherit' })`npm run --silent build`;
}

const pieces: { title: string; file: string; args: string[] }[] = [
  { title: 'fleet --help startup', file: 'bench/help-startup.ts', args: [] },
  { title: 'fleet validate of generated manifests, fleet plan --json of 1,000 hosts', file: 'bench/manifest-scale.ts', args: [] },
  {
    title: 'fleet apply vs. the bash nixos-rebuild loop (../shared/bench/rebuild-loop.sh), plain and with evaluation weight',
    file: 'bench/apply-vs-loop.ts',
    args: process.argv.slice(2),
  },
  {
    title: 'closures by the shortest path: uplink cap, binary cache, round-trip time, tail, scale (bench/network.ts; NET_SCENARIOS=… for some)',
    file: 'bench/network.ts',
    args: [],
  },
];

let failed = false;
for (const piece of pieces) {
  console.log(`\n== ${piece.title}`);
  const result = await $({ stdio: 'inherit', nothrow: true })`tsx ${piece.file} ${piece.args}`;
  if (result.exitCode !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
