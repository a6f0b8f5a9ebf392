// Benchmark: `fleet validate` of generated 1,000- and 20,000-host manifests (HOSTS=… for others), `fleet plan --json` of the
// 1,000-host one, and a 50 MiB file, against a bare `node -e 0`: wall time, CPU, peak RSS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/fleet.js', import.meta.url));
/**
 * Goals: validate 1,000 hosts (issue 24: 0.4 s is fine, with one YAML reader and no bundling), plan
 * --json of 1,000 hosts, validate 20,000 (issues 9 and 12). The memory goal at 40,000 is withdrawn.
 */
const GOAL_1000_S = 0.4;
const GOAL_PLAN_1000_S = 1;
const GOAL_PLAN_1000_MIB = 200;
const GOAL_20000_S = 2;
const met = (ok: boolean): string => (ok ? 'met' : 'NOT MET');

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILGvbfa+NEiUmkz7+C5fveAgwgJ6/mtnueEoEhnvd2S2';

/**
 * A valid manifest of `n` hosts shaped like a real fleet: defaults, a pinned key per host, tags,
 * every tenth host with health checks and a keys policy, every hundredth a bootstrap host.
 */
export function generateManifest(n: number): string {
  const lines = [
    'version: 1',
    'flake: .',
    'parallel: 20',
    'ssh:',
    '  options: [ConnectTimeout=5]',
    'defaults:',
    '  identityFile: ~/.ssh/id_ed25519_fleet',
    '  rollback: { timeout: 60 }',
    'hosts:',
  ];
  for (let i = 0; i < n; i++) {
    const name = `host-${String(i).padStart(6, '0')}`;
    lines.push(`  ${name}:`);
    lines.push(`    target: root@10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:22`);
    lines.push(`    hostKey: ${KEY}`);
    lines.push(`    tags: [rack-${i % 40}, ${i % 2 === 0 ? 'web' : 'db'}]`);
    if (i % 10 === 0) {
      lines.push('    mode: boot');
      lines.push('    healthChecks:');
      lines.push('      - { name: http, command: [curl, -fsS, http://localhost/], timeout: 10 }');
      lines.push('    keys: { push: never }');
    }
    if (i % 100 === 1) lines.push('    bootstrap: { noDiskoDeps: true }');
  }
  return `${lines.join('\n')}\n`;
}

interface Sample {
  /** Wall time. */
  seconds: number;
  /** User + system CPU time of the process (steadier than wall time on a busy machine). */
  cpuSeconds: number;
  rssMiB: number;
}

/**
 * Runs `node <args>` with a preload that reports the process's own peak RSS and CPU time on fd 3
 * at exit; the run must exit with `status` and print `expect` (on stdout or stderr).
 */
function measure(args: string[], preload: string, expect = '', status = 0): Sample {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['--require', preload, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    // A plan of 1,000 hosts as JSON is tens of MB.
    maxBuffer: 1 << 30,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== status || !`${result.stdout}${result.stderr}`.includes(expect)) {
    throw new Error(`node ${args.join(' ')} exited ${result.status} (expected ${status}): ${result.stdout}${result.stderr}`);
  }
  const [maxRssKiB = 0, cpuMicros = 0] = String(result.output[3] ?? '').split(' ').map(Number);
  return { seconds, cpuSeconds: cpuMicros / 1e6, rssMiB: maxRssKiB / 1024 };
}

/** Median of `runs` samples (after one warm-up run) for time and CPU; RSS is the largest seen. */
function median(runs: number, sample: () => Sample): Sample & { minSeconds: number } {
  sample();
  const all = Array.from({ length: runs }, sample);
  const mid = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  return {
    seconds: mid(all.map((s) => s.seconds)),
    minSeconds: Math.min(...all.map((s) => s.seconds)),
    cpuSeconds: mid(all.map((s) => s.cpuSeconds)),
    rssMiB: Math.max(...all.map((s) => s.rssMiB)),
  };
}

const show = (s: Sample & { minSeconds: number }): string =>
  `${s.seconds.toFixed(3)} s (min ${s.minSeconds.toFixed(3)}), cpu ${s.cpuSeconds.toFixed(3)} s, ${s.rssMiB.toFixed(0)} MiB`;

function main(): void {
  const sizes = (process.env.HOSTS ?? '1000,20000').split(',').map(Number);
  const runs = Number(process.env.RUNS ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-manifest-'));
  try {
    const preload = join(dir, 'peak-rss.cjs');
    writeFileSync(
      preload,
      "process.on('exit', () => { const u = process.resourceUsage(); require('node:fs').writeSync(3, `${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}`); });\n",
    );
    const bare = median(runs, () => measure(['-e', '0'], preload));
    console.log(`node -e 0: ${show(bare)}`);
    const perHost: [number, number][] = [];
    for (const n of sizes) {
      const file = join(dir, `fleet-${n}.yaml`);
      writeFileSync(file, generateManifest(n));
      const fleet = median(runs, () => measure([BIN, 'validate', '-f', file], preload, `ok (${n} hosts)`));
      perHost.push([n, fleet.cpuSeconds - bare.cpuSeconds]);
      const goal =
        n === 1000
          ? `; goal ≤ ${GOAL_1000_S} s: ${met(fleet.seconds <= GOAL_1000_S)}`
          : n === 20000
            ? `; goal ≤ ${GOAL_20000_S} s: ${met(fleet.seconds <= GOAL_20000_S)}`
            : '';
      console.log(
        `fleet validate, ${n} hosts: ${show(fleet)}` +
          ` (${(fleet.seconds / bare.seconds).toFixed(1)}× node -e 0; ${(((fleet.seconds - bare.seconds) * 1e6) / n).toFixed(0)} µs per host${goal})`,
      );
    }
    // Linear means the CPU beyond a bare node grows no faster than the number of hosts.
    for (let i = 1; i < perHost.length; i++) {
      const [n0, cpu0] = perHost[i - 1] as [number, number];
      const [n1, cpu1] = perHost[i] as [number, number];
      console.log(`growth ${n0} → ${n1} hosts (×${(n1 / n0).toFixed(1)}): cpu beyond node ×${(cpu1 / cpu0).toFixed(2)}`);
    }
    // The plan of 1,000 hosts as JSON, exactly as the runner would run it (no host is touched).
    const plan1000 = join(dir, 'fleet-plan-1000.yaml');
    writeFileSync(plan1000, generateManifest(1000));
    const plan = median(runs, () => measure([BIN, 'plan', '--json', '--rebuild-flavour', 'bash', '-f', plan1000], preload, '"version": 2'));
    console.log(
      `fleet plan --json, 1000 hosts: ${show(plan)} (goal ≤ ${GOAL_PLAN_1000_S} s and ≤ ${GOAL_PLAN_1000_MIB} MiB: ` +
        `${met(plan.seconds <= GOAL_PLAN_1000_S && plan.rssMiB <= GOAL_PLAN_1000_MIB)})`,
    );
    const huge = join(dir, 'fleet-50MiB.yaml');
    writeFileSync(huge, 'version: 1\n');
    truncateSync(huge, 50 * 1024 * 1024);
    const refused = median(runs, () => measure([BIN, 'validate', '-f', huge], preload, 'over the limit of 16 MiB', 2));
    console.log(`fleet validate, a 50 MiB file (refused): ${show(refused)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
