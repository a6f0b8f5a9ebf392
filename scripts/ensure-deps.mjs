#!/usr/bin/env node
// Before `npm test` / the demo: install node packages and the lab's system packages when missing,
// so both work on a fresh machine. Plain Node, no dependencies: it runs before `npm ci`, then hands
// the system packages to the zx installer (scripts/install-lab-deps.ts), which needs node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const onPath = (cmd) =>
  [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'].some((dir) => dir && existsSync(join(dir, cmd)));
if (!existsSync(join(root, 'node_modules', '.bin', 'vitest'))) {
  console.error('fleet: installing node packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
const missing = ['nix', 'nix-store', 'sshd', 'ssh', 'ip', 'unshare', 'nsenter', 'sudo', 'doas', 'script'].filter((c) => !onPath(c));
if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`fleet: the lab needs ${missing.join(', ')}; run as root: sudo npx tsx scripts/install-lab-deps.ts`);
    process.exit(1);
  }
  console.error(`fleet: installing the lab's system packages (missing: ${missing.join(', ')})`);
  run(join(root, 'node_modules', '.bin', 'tsx'), ['scripts/install-lab-deps.ts']);
}
