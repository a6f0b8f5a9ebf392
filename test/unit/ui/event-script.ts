// A scripted run shared by the renderer tests: three hosts, one changed, one unchanged, one failed.
import type { ClosureDiff, HostOutcome, RunEvent } from '../../../src/run/events.js';
import { buildPlan, type Plan } from '../../../src/plan/index.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';

/** A diff of one changed package, for the views that keep a host's diff in sight. */
export const LAB_TOOL_DIFF: ClosureDiff = {
  kind: 'changes',
  from: '/nix/store/x',
  to: '/nix/store/y',
  changed: [{ name: 'lab-tool', from: ['1.0'], to: ['1.1'], sizeDelta: 8192 }],
  added: [],
  removed: [],
  closure: { fromPaths: 2, toPaths: 2, pathsAdded: 2, pathsRemoved: 2, fromBytes: 4096, toBytes: 12288 },
};

export const T0 = Date.UTC(2025, 0, 2, 12, 0, 0);
export const PACMAN_PATH = '/nix/store/q3wx7y0b1c2d3f4g5h6i7j8k9l0m1n2p-nixos-system-vps-pacman';
export const WEB1_PATH = '/nix/store/a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r6-nixos-system-web-1';
export const WEB2_PATH = '/nix/store/z9y8x7w6v5s4r3q2p1n0m9l8k7j6i5h4-nixos-system-web-2';

export const PACMAN: HostOutcome = {
  host: 'vps-pacman',
  kind: 'changed',
  mode: 'switch',
  step: 'verify',
  reason: 'switched and confirmed',
  storePath: PACMAN_PATH,
  tail: [],
  startedAt: T0 + 1_000,
  finishedAt: T0 + 13_300,
  steps: [
    { step: 'probe', status: 'done', detail: 'NixOS 24.11', startedAt: T0 + 1_000, finishedAt: T0 + 1_400 },
    { step: 'bootstrap', status: 'skipped', detail: 'already NixOS, not bootstrapping', startedAt: T0 + 1_400, finishedAt: T0 + 1_400 },
    { step: 'deploy', status: 'done', detail: `switch ${PACMAN_PATH}`, startedAt: T0 + 1_400, finishedAt: T0 + 12_000 },
    { step: 'verify', status: 'done', detail: 'new ssh connection ok', startedAt: T0 + 12_000, finishedAt: T0 + 13_300 },
  ],
};

export const WEB1: HostOutcome = {
  host: 'web-1',
  kind: 'unchanged',
  mode: 'switch',
  step: 'deploy',
  reason: 'already runs the built system',
  storePath: WEB1_PATH,
  tail: [],
  startedAt: T0 + 1_000,
  finishedAt: T0 + 2_200,
  steps: [
    { step: 'probe', status: 'done', detail: 'NixOS 24.11', startedAt: T0 + 1_000, finishedAt: T0 + 1_500 },
    { step: 'deploy', status: 'skipped', detail: 'already runs the built system', startedAt: T0 + 1_500, finishedAt: T0 + 2_200 },
  ],
};

export const WEB2: HostOutcome = {
  host: 'web-2',
  kind: 'failed',
  mode: 'switch',
  step: 'deploy',
  reason: 'switch-to-configuration exited with 1',
  storePath: WEB2_PATH,
  tail: ['starting the following units: nginx.service', 'Job for nginx.service failed.', 'warning: the following units failed: nginx.service'],
  startedAt: T0 + 1_000,
  finishedAt: T0 + 4_100,
  steps: [
    { step: 'probe', status: 'done', detail: 'NixOS 24.11', startedAt: T0 + 1_000, finishedAt: T0 + 1_300 },
    { step: 'deploy', status: 'failed', detail: 'switch-to-configuration exited with 1', startedAt: T0 + 1_300, finishedAt: T0 + 4_100 },
  ],
};

const HOSTS = ['vps-pacman', 'web-1', 'web-2'];

/** The run in phases; tests may pause between phases so renderers process them separately. */
export const SCRIPT: RunEvent[][] = [
  [
    { type: 'build-start', hosts: HOSTS, chunk: 1, chunks: 1 },
    { type: 'build-line', hosts: HOSTS, line: 'evaluating 3 hosts' },
    { type: 'build-done', host: 'vps-pacman', output: 'toplevel', storePath: PACMAN_PATH },
    { type: 'build-done', host: 'web-1', output: 'toplevel', storePath: WEB1_PATH },
    { type: 'build-done', host: 'web-2', output: 'toplevel', storePath: WEB2_PATH },
  ],
  [
    { type: 'host-start', host: 'vps-pacman' },
    { type: 'host-start', host: 'web-1' },
    { type: 'host-start', host: 'web-2' },
    { type: 'step-start', host: 'vps-pacman', step: 'probe', title: 'probe' },
    { type: 'step-start', host: 'web-2', step: 'probe', title: 'probe' },
    { type: 'step-done', host: 'vps-pacman', step: 'probe', detail: 'NixOS 24.11' },
    { type: 'step-done', host: 'web-2', step: 'probe', detail: 'NixOS 24.11' },
    { type: 'step-skip', host: 'vps-pacman', step: 'bootstrap', reason: 'already NixOS, not bootstrapping' },
    { type: 'step-start', host: 'web-2', step: 'deploy', title: 'deploy switch' },
    { type: 'step-line', host: 'web-2', step: 'deploy', line: 'activating the configuration...' },
    { type: 'step-start', host: 'vps-pacman', step: 'deploy', title: 'deploy switch' },
    { type: 'step-line', host: 'vps-pacman', step: 'deploy', line: `copying path '${PACMAN_PATH}'` },
  ],
  [
    { type: 'step-failed', host: 'web-2', step: 'deploy', reason: 'switch-to-configuration exited with 1' },
    { type: 'host-done', outcome: WEB2 },
  ],
  [
    { type: 'step-start', host: 'web-1', step: 'probe', title: 'probe' },
    { type: 'step-done', host: 'web-1', step: 'probe', detail: 'NixOS 24.11' },
    { type: 'step-skip', host: 'web-1', step: 'deploy', reason: 'already runs the built system' },
    { type: 'host-done', outcome: WEB1 },
    { type: 'step-done', host: 'vps-pacman', step: 'deploy', detail: `switch ${PACMAN_PATH}` },
    { type: 'host-note', host: 'vps-pacman', level: 'warn', message: 'accepted new host key SHA256:abc (trust on first use)' },
    { type: 'step-start', host: 'vps-pacman', step: 'verify', title: 'verify' },
    { type: 'step-done', host: 'vps-pacman', step: 'verify', detail: 'new ssh connection ok' },
    { type: 'host-done', outcome: PACMAN },
  ],
];

/** The pty driver writes this while the tree is drawn: listr2 holds it and prints it under the final tree. */
export const STRAY_LINE = 'stray: written during the run';
/** The pty driver writes this after `close()`, as the CLI writes its summary table. */
export const AFTER_LINE = 'after-close: summary';

/** A fake stdout that records what is written. */
export function fakeStream(isTTY: boolean): { stream: NodeJS.WritableStream; chunks: string[]; text: () => string } {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns: 100,
    rows: 40,
    write(chunk: string | Uint8Array): boolean {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    },
  };
  return { stream: stream as unknown as NodeJS.WritableStream, chunks, text: () => chunks.join('') };
}

/** Lets timers and promise chains run (listr2 reacts asynchronously). */
export function settle(ms = 30): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The plan of the three hosts, as buildPlan makes it (enough for the tree and the JSON report). */
export function scriptPlan(): Plan {
  const hosts = HOSTS.map((name) => host(name, { target: { kind: 'ssh', user: 'root', host: name, port: 22 } }));
  return buildPlan(inventory(hosts), planOptions({ rebuildFlavour: 'ng' }));
}
