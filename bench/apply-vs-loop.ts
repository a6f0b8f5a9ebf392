// Benchmark: `fleet apply` against the baseline users run today, a sequential loop of the bash
// nixos-rebuild (../shared/bench/rebuild-loop.sh: its exact nix and ssh calls), on N lab hosts, for new
// systems and for an unchanged re-apply: wall time, CPU of the whole process tree, CPU per host, fleet's
// own node process, ssh connections per host (counted by each host's sshd) and nix evaluations.
// Then weighted runs (issue 14): WEIGHTED_N hosts (default 8 and 16; 0 skips them) whose flake costs about
// 0.4 s per evaluator and 0.8 s per host to evaluate, as real NixOS configurations do: wall, CPU,
// fleet's evaluators (how many at once, their peak memory against the limit fleet computed) and when
// the first host activated against when the last evaluation ended.
//
//   tsx bench/apply-vs-loop.ts [N…]      (default: 8 16; also N=8,16 in the environment; N=0: none)
//   WEIGHTED_N=8,16 (default) hosts for the weighted runs; WEIGHTED_N=0 skips them
//   REPEAT=3 (default) rounds of each fleet/loop measurement, plain and weighted: the median round is shown
//   WEIGHTED_CASES=new,eval-cache (default): which weighted cases run for each WEIGHTED_N: `new` (new systems,
//     issue 14) and `eval-cache` (issue 22: unchanged, one host changed, and fleet status, at 0.8 s shared +
//     3.2 s per host). Only the evaluation cache's cases: N=0 WEIGHTED_N=8 WEIGHTED_CASES=eval-cache
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLabPrerequisites, REAL_NIXOS_WEIGHT, startLab, type EvalWeight, type Lab } from '../test/lab/lab.js';
import { FLEET_BIN, writeLabManifest } from '../test/lab/fleet-harness.js';
import { readOwnCpu, writeCpuPreload } from './node-cpu.js';
import { runChild } from './run-child.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The baseline lives beside the repository, read-only; it is never copied in. */
const LOOP = resolve(REPO, '..', 'shared', 'bench', 'rebuild-loop.sh');
const RUN_TIMEOUT_MS = 15 * 60_000;

const sizes = (process.argv.length > 2 ? process.argv.slice(2) : (process.env.N ?? '8,16').split(/[ ,]+/))
  .filter(Boolean)
  .map(Number)
  // N=0: only the weighted run.
  .filter((n, _, all) => !(n === 0 && all.length === 1));
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 63)) {
  console.error(`apply-vs-loop: host counts must be whole numbers from 1 to 63 (got ${process.argv.slice(2).join(' ') || process.env.N})`);
  process.exit(2);
}

// ------------------------------------------------------------------------------------------------
// nix calls: a `nix` first on PATH records each call's argv, then runs the real nix.

/** nix subcommands; the first argument that is one of these is the call's subcommand. */
const SUBCOMMANDS = new Set([
  'build', 'bundle', 'config', 'copy', 'daemon', 'derivation', 'develop', 'edit', 'eval', 'flake', 'hash', 'key', 'log',
  'nar', 'path-info', 'print-dev-env', 'profile', 'realisation', 'registry', 'repl', 'run', 'search', 'shell',
  'show-config', 'show-derivation', 'store', 'why-depends',
]);

interface NixCalls {
  /** Calls per subcommand. */
  bySubcommand: Map<string, number>;
  /** Calls that evaluate Nix code: `nix eval`, and `nix build` of a flake installable (`F#attr`). */
  evaluations: number;
  /** When each evaluating call started and ended (ms since the epoch). */
  evaluationTimes: { start: number; end: number }[];
  /** Peak memory of each `nix eval`, in MiB (empty without GNU time). */
  evaluationPeakMiB: number[];
}

/** Writes the shim (argv of each call in its own file, NUL-separated: arguments may hold newlines). */
function writeNixShim(dir: string, realNix: string): { binDir: string; logDir: string } {
  const binDir = join(dir, 'shim-bin');
  const logDir = join(dir, 'shim-log');
  mkdirSync(binDir);
  mkdirSync(logDir);
  const script = [
    '#!/bin/sh',
    '# bench/apply-vs-loop.ts: record the call, then run the real nix.',
    `f=$(mktemp "${logDir}/call.XXXXXXXX") && printf '%s\\0' "$@" > "$f"`,
    // Not exec: the end time is wanted too (fleet stops a process's whole group, so nix is stopped with it).
    's=$(date +%s%3N)',
    // GNU time, where there is one, records the call's peak memory (maximum resident set, KiB).
    ...(existsSync('/usr/bin/time') ? [`/usr/bin/time -q -f %M -o "$f.rss" ${realNix} "$@"`] : [`${realNix} "$@"`]),
    'rc=$?',
    'echo "$s $(date +%s%3N)" > "$f.time"',
    'exit $rc',
    '',
  ].join('\n');
  writeFileSync(join(binDir, 'nix'), script);
  chmodSync(join(binDir, 'nix'), 0o755);
  return { binDir, logDir };
}

function findOnPath(cmd: string, path: string): string {
  for (const d of path.split(':')) {
    if (!d) continue;
    try {
      if (statSync(join(d, cmd)).isFile()) return join(d, cmd);
    } catch {
      // not here
    }
  }
  throw new Error(`${cmd} not found on PATH`);
}

/** Reads and clears the calls the shim recorded. */
function takeNixCalls(logDir: string): NixCalls {
  const bySubcommand = new Map<string, number>();
  let evaluations = 0;
  const evaluationTimes: { start: number; end: number }[] = [];
  const evaluationPeakMiB: number[] = [];
  for (const file of readdirSync(logDir)) {
    if (file.endsWith('.time') || file.endsWith('.rss')) continue;
    let peakKiB: number | undefined;
    try {
      peakKiB = Number(readFileSync(join(logDir, `${file}.rss`), 'utf8').trim().split('\n').at(-1));
      rmSync(join(logDir, `${file}.rss`));
    } catch {
      // no GNU time, or still running
    }
    const argv = readFileSync(join(logDir, file), 'utf8').split('\0').slice(0, -1);
    rmSync(join(logDir, file));
    let times: number[] = [];
    try {
      times = readFileSync(join(logDir, `${file}.time`), 'utf8').trim().split(' ').map(Number);
      rmSync(join(logDir, `${file}.time`));
    } catch {
      // still running, or killed
    }
    const sub = argv.find((a) => SUBCOMMANDS.has(a)) ?? (argv.includes('--version') ? '--version' : '(other)');
    bySubcommand.set(sub, (bySubcommand.get(sub) ?? 0) + 1);
    const rest = argv.slice(argv.indexOf(sub) + 1);
    if (sub === 'eval' || (sub === 'build' && rest.some((a) => !a.startsWith('-') && a.includes('#')))) {
      evaluations++;
      if (times.length === 2) evaluationTimes.push({ start: times[0]!, end: times[1]! });
      if (sub === 'eval' && peakKiB !== undefined && Number.isFinite(peakKiB)) evaluationPeakMiB.push(peakKiB / 1024);
    }
  }
  return { bySubcommand, evaluations, evaluationTimes, evaluationPeakMiB };
}

function describeCalls(calls: NixCalls): string {
  return [...calls.bySubcommand].sort(([a], [b]) => a.localeCompare(b)).map(([s, c]) => `${s} ${c}`).join(', ') || 'none';
}

// ------------------------------------------------------------------------------------------------
// CPU of a whole process tree: a cpuacct cgroup (v1) or a cgroup v2 directory holds the command and
// everything it starts, including ssh ControlPersist masters that leave the tree; without a writable
// cgroup, the rusage of the waited-for children (bash's `times`), which misses such daemons.

type CpuMeter =
  | { kind: 'cgroup-v2'; root: string }
  | { kind: 'cgroup-v1'; root: string }
  | { kind: 'rusage' };

function chooseCpuMeter(): CpuMeter {
  for (const meter of [
    { kind: 'cgroup-v2', root: '/sys/fs/cgroup', probe: 'cgroup.controllers' },
    { kind: 'cgroup-v1', root: '/sys/fs/cgroup/cpuacct', probe: 'cpuacct.usage' },
  ] as const) {
    if (!existsSync(join(meter.root, meter.probe))) continue;
    const test = join(meter.root, `fleet-bench-probe-${process.pid}`);
    try {
      mkdirSync(test);
      rmdirSync(test);
      return { kind: meter.kind, root: meter.root };
    } catch {
      // not writable here
    }
  }
  return { kind: 'rusage' };
}

interface Measured {
  code: number | null;
  output: string;
  wallMs: number;
  /** When it started (ms since the epoch). */
  startedAt: number;
  /** user+sys of the whole tree. */
  cpuMs: number;
  /** user+sys of the first process alone (node's process.cpuUsage via a preload), when known. */
  ownCpuMs: number | null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function measure(meter: CpuMeter, argv: string[], env: NodeJS.ProcessEnv, cpuOut?: string): Promise<Measured> {
  let cg: string | null = null;
  let wrapped: string[];
  if (meter.kind === 'rusage') {
    // `times` prints the shell's and its children's user and system time (second line: children).
    wrapped = ['bash', '-c', '"$@"; rc=$?; times >&3; exit $rc', 'bench', ...argv];
  } else {
    cg = join(meter.root, `fleet-bench-${process.pid}-${randomBytes(3).toString('hex')}`);
    mkdirSync(cg);
    wrapped = ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg, ...argv];
  }
  const startedAt = Date.now();
  const { code, output, fd3: times, wallMs, pid } = await runChild(wrapped, env, RUN_TIMEOUT_MS, { fd3: true });
  let cpuMs = 0;
  if (cg !== null) {
    // Whatever is left in the group (a ControlPersist master) ends now; its CPU so far is counted.
    for (let i = 0; i < 20; i++) {
      const pids = readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(Number(pid), i < 10 ? 'SIGTERM' : 'SIGKILL');
        } catch {
          // gone
        }
      }
      await sleep(100);
    }
    if (meter.kind === 'cgroup-v1') cpuMs = Number(readFileSync(join(cg, 'cpuacct.usage'), 'utf8').trim()) / 1e6;
    else cpuMs = Number(/usage_usec (\d+)/.exec(readFileSync(join(cg, 'cpu.stat'), 'utf8'))![1]) / 1000;
    rmdirSync(cg);
  } else {
    const lines = times.trim().split('\n');
    const children = lines.at(-1) ?? '';
    const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
    cpuMs = secs.reduce((a, b) => a + b, 0) * 1000;
  }
  const ownCpuMs = cpuOut ? readOwnCpu(cpuOut, pid) : null;
  return { code, output, wallMs, startedAt, cpuMs, ownCpuMs };
}

// ------------------------------------------------------------------------------------------------
// ssh connections: each lab host's sshd logs (LogLevel INFO, /run/lab/sshd.log) one
// `Accepted publickey for …` per authenticated connection; sessions multiplexed over a
// ControlMaster connection authenticate once, so they count once.

function acceptedConnections(lab: Lab): Map<string, number> {
  const counts = new Map<string, number>();
  for (const h of lab.hosts) {
    let text = '';
    try {
      text = readFileSync(join(h.dirs.lab, 'sshd.log'), 'utf8');
    } catch {
      // no log yet
    }
    counts.set(h.name, text.split('\n').filter((l) => l.includes('Accepted publickey for ')).length);
  }
  return counts;
}

function connectionsSince(lab: Lab, before: Map<string, number>): number[] {
  const now = acceptedConnections(lab);
  return lab.hosts.map((h) => now.get(h.name)! - before.get(h.name)!);
}

// ------------------------------------------------------------------------------------------------

function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).map((l) => `    | ${l}`).join('\n');
}

/** Every host runs the flake's current toplevel; else throws naming the first that does not. */
async function expectAllSwitched(lab: Lab, what: string): Promise<void> {
  // One toplevels() call per host: Nix 2.8's `nix build --json` does not list outputs in argument order.
  const wanted = await Promise.all(lab.hosts.map(async (h) => (await lab.toplevels([h.name]))[h.name]));
  lab.hosts.forEach((h, i) => {
    if (lab.currentSystem(h.name) !== wanted[i]) throw new Error(`${what}: ${h.name} runs ${lab.currentSystem(h.name)}, not ${wanted[i]}`);
  });
}

interface FleetReport {
  evaluations?: number;
  hosts: { name?: string; host?: string; outcome?: string }[];
}

interface Row {
  who: 'fleet' | 'loop';
  m: Measured;
  connections: number[];
  calls: NixCalls;
  outcomes?: string;
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** Rounds of each fleet/loop measurement per host count (REPEAT=1: one). */
const REPEAT = Math.max(1, Math.floor(Number(process.env.REPEAT ?? 3)) || 1);
/** The row of the median run by wall time (of an even count, the faster middle one). */
function median(rows: Row[]): Row {
  const sorted = [...rows].sort((a, b) => a.m.wallMs - b.m.wallMs);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '–');
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const perHost = (xs: number[]) => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? `${lo}` : `${avg(xs).toFixed(1)} (${lo}–${hi})`;
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd()).join('\n');
}

async function benchSize(n: number, meter: CpuMeter): Promise<void> {
  const names = Array.from({ length: n }, (_, i) => `h${i + 1}`);
  const labStart = performance.now();
  const lab = await startLab({ hosts: names.map((name) => ({ name, state: 'installed' as const })) });
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-'));
  try {
    console.log(`\n== ${n} lab hosts (lab ${lab.prefix} up in ${s(performance.now() - labStart)})`);
    const manifest = writeLabManifest(lab, dir, names.map((name) => ({ name })));
    const shim = writeNixShim(dir, findOnPath('nix', lab.env.PATH!));
    const preload = writeCpuPreload(dir);
    const env: NodeJS.ProcessEnv = { ...process.env, ...lab.env, PATH: `${shim.binDir}:${lab.env.PATH}`, CI: 'true', NO_COLOR: '1' };
    const fleetEnv = { ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload.file}`.trim() };
    const loopEnv = { ...env, NIX_SSHOPTS: lab.sshOptionsString };
    const loopArgv = ['bash', LOOP, lab.flakeDir, ...lab.hosts.map((h) => `${h.name}=root@${h.address}`)];

    // The loop is the bash nixos-rebuild's sequence: fleet runs on a machine with that same tool (it
    // then activates the prebuilt systems itself); one more run shows it with nixos-rebuild-ng.
    const fleetRun = async (flavour: 'bash' | 'ng' = 'bash'): Promise<Row> => {
      const report = join(dir, 'report.json');
      rmSync(report, { force: true });
      const before = acceptedConnections(lab);
      const m = await measure(meter, [process.execPath, FLEET_BIN, 'apply', '-f', manifest, '--report', report], { ...fleetEnv, FLEET_LAB_REBUILD_FLAVOUR: flavour }, preload.outDir);
      const connections = connectionsSince(lab, before);
      const calls = takeNixCalls(shim.logDir);
      if (m.code !== 0) throw new Error(`fleet apply exited ${m.code}:\n${tail(m.output)}`);
      let outcomes: string | undefined;
      try {
        const json = JSON.parse(readFileSync(report, 'utf8')) as FleetReport;
        const counts = new Map<string, number>();
        for (const h of json.hosts) counts.set(h.outcome ?? '?', (counts.get(h.outcome ?? '?') ?? 0) + 1);
        outcomes = [...counts].map(([o, c]) => `${c} ${o}`).join(', ');
      } catch {
        outcomes = undefined;
      }
      return { who: 'fleet', m, connections, calls, outcomes };
    };
    const loopRun = async (): Promise<Row> => {
      const before = acceptedConnections(lab);
      const m = await measure(meter, loopArgv, loopEnv);
      const connections = connectionsSince(lab, before);
      const calls = takeNixCalls(shim.logDir);
      if (m.code !== 0) throw new Error(`rebuild-loop.sh exited ${m.code}:\n${tail(m.output)}`);
      return { who: 'loop', m, connections, calls };
    };

    // A new revision for each "new systems" run, so that both really build, copy and activate; the
    // unchanged run re-applies the revision just deployed. REPEAT rounds, fleet and the loop in
    // turn; each figure below is from the median round (by wall time), with the range beside it.
    const runs = { fleetNew: [] as Row[], fleetSame: [] as Row[], loopNew: [] as Row[], loopSame: [] as Row[] };
    for (let round = 0; round < REPEAT; round++) {
      lab.setRevision(100 + n + 1000 * round);
      runs.fleetNew.push(await fleetRun());
      await expectAllSwitched(lab, 'fleet apply');
      runs.fleetSame.push(await fleetRun());
      lab.setRevision(200 + n + 1000 * round);
      runs.loopNew.push(await loopRun());
      await expectAllSwitched(lab, 'rebuild-loop.sh');
      runs.loopSame.push(await loopRun());
    }
    lab.setRevision(300 + n);
    const fleetNg = await fleetRun('ng');
    await expectAllSwitched(lab, 'fleet apply (nixos-rebuild-ng)');
    const [fleetNew, fleetSame, loopNew, loopSame] = [runs.fleetNew, runs.fleetSame, runs.loopNew, runs.loopSame].map(median) as [Row, Row, Row, Row];
    const spread = (rows: Row[]) => (rows.length > 1 ? ` (${s(Math.min(...rows.map((r) => r.m.wallMs)))}–${s(Math.max(...rows.map((r) => r.m.wallMs)))})` : '');

    const header = ['', 'wall', 'CPU (tree)', 'CPU/host', 'fleet node', 'node/host', 'ssh conn/host', 'nix evals', 'nix calls'];
    const line = (label: string, r: Row) => [
      label,
      s(r.m.wallMs),
      s(r.m.cpuMs),
      s(r.m.cpuMs / n),
      r.m.ownCpuMs === null ? '–' : s(r.m.ownCpuMs),
      r.m.ownCpuMs === null ? '–' : s(r.m.ownCpuMs / n),
      perHost(r.connections),
      String(r.calls.evaluations),
      describeCalls(r.calls),
    ];
    const ratios = (f: Row, l: Row) => [
      'fleet/loop',
      ratio(f.m.wallMs, l.m.wallMs),
      ratio(f.m.cpuMs, l.m.cpuMs),
      ratio(f.m.cpuMs, l.m.cpuMs),
      '',
      '',
      ratio(avg(f.connections), avg(l.connections)),
      ratio(f.calls.evaluations, l.calls.evaluations),
      '',
    ];
    console.log(table([
      header,
      ['new systems'],
      line('  fleet apply', fleetNew),
      line('  rebuild-loop.sh', loopNew),
      ratios(fleetNew, loopNew),
      line('  fleet apply (ng)', fleetNg),
      ratios(fleetNg, loopNew),
      ['unchanged (re-apply)'],
      line('  fleet apply', fleetSame),
      line('  rebuild-loop.sh', loopSame),
      ratios(fleetSame, loopSame),
    ].map((r) => [...r, ...Array(header.length - r.length).fill('')])));
    if (REPEAT > 1) {
      console.log(
        `  median of ${REPEAT} rounds (wall, fastest–slowest): new systems fleet ${s(fleetNew.m.wallMs)}${spread(runs.fleetNew)}, loop ${s(loopNew.m.wallMs)}${spread(runs.loopNew)}; ` +
          `unchanged fleet ${s(fleetSame.m.wallMs)}${spread(runs.fleetSame)}, loop ${s(loopSame.m.wallMs)}${spread(runs.loopSame)}; the ng run once`,
      );
    }
    console.log(`  new systems: fleet/loop ${ratio(fleetNew.m.wallMs, loopNew.m.wallMs)} wall, ${ratio(fleetNew.m.cpuMs, loopNew.m.cpuMs)} CPU (bash nixos-rebuild on both sides)`);
    console.log(`  new systems, fleet with the nixos-rebuild-ng stand-in (a node process per host): fleet/loop ${ratio(fleetNg.m.wallMs, loopNew.m.wallMs)} wall, ${ratio(fleetNg.m.cpuMs, loopNew.m.cpuMs)} CPU`);
    console.log(`  unchanged:   fleet/loop ${ratio(fleetSame.m.wallMs, loopSame.m.wallMs)} wall, ${ratio(fleetSame.m.cpuMs, loopSame.m.cpuMs)} CPU`);
    console.log(
      `  fleet's ssh connections: ${perHost(fleetNew.connections)} per changed host (${fleetNew.outcomes ?? 'outcomes unknown'}), ` +
        `${perHost(fleetSame.connections)} per unchanged host (${fleetSame.outcomes ?? 'outcomes unknown'}); ` +
        `the loop: ${perHost(loopNew.connections)} / ${perHost(loopSame.connections)}`,
    );
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * fleet apply against the loop on hosts whose flake costs what real NixOS configurations cost to
 * evaluate (REAL_NIXOS_WEIGHT), new systems: wall, CPU, fleet's evaluators (how many at once), and
 * the first activation against the end of the last evaluation (both from fleet's start).
 */
async function benchWeighted(n: number, meter: CpuMeter): Promise<void> {
  const names = Array.from({ length: n }, (_, i) => `w${i + 1}`);
  const labStart = performance.now();
  const lab = await startLab({ hosts: names.map((name) => ({ name, state: 'installed' as const })), weight: REAL_NIXOS_WEIGHT });
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-'));
  try {
    console.log(
      `\n== ${n} lab hosts with evaluation weight ${REAL_NIXOS_WEIGHT.shared} shared + ${REAL_NIXOS_WEIGHT.perHost} per host ` +
        `(about 0.4 s per evaluator + 0.8 s per host; lab ${lab.prefix} up in ${s(performance.now() - labStart)})`,
    );
    const manifest = writeLabManifest(lab, dir, names.map((name) => ({ name })));
    const shim = writeNixShim(dir, findOnPath('nix', lab.env.PATH!));
    const env: NodeJS.ProcessEnv = { ...process.env, ...lab.env, PATH: `${shim.binDir}:${lab.env.PATH}`, CI: 'true', NO_COLOR: '1' };
    /** Activation times (from the hosts' own logs) within one measured run. */
    const activations = (m: Measured) =>
      lab.hosts.flatMap((h) => lab.activations(h.name).map((a) => Date.parse(a.time))).filter((t) => t >= m.startedAt && t <= m.startedAt + m.wallMs);
    const firstActivation = (m: Measured) => Math.min(...activations(m));
    const lastActivation = (m: Measured) => Math.max(...activations(m));

    // REPEAT rounds, fleet and the loop in turn, each on a new revision; the median round of each
    // (by wall time) is shown, the range beside it.
    const report = join(dir, 'report.json');
    const rounds: { fleet: Measured; fleetCalls: NixCalls; loop: Measured; loopCalls: NixCalls }[] = [];
    for (let round = 0; round < REPEAT; round++) {
      lab.setRevision(500 + n + 1000 * round);
      const fleetRun = await measure(meter, [process.execPath, FLEET_BIN, 'apply', '-f', manifest, '--report', report], { ...env, FLEET_LAB_REBUILD_FLAVOUR: 'bash' });
      const fleetRunCalls = takeNixCalls(shim.logDir);
      if (fleetRun.code !== 0) throw new Error(`fleet apply exited ${fleetRun.code}:\n${tail(fleetRun.output)}`);
      await expectAllSwitched(lab, 'fleet apply (weighted)');
      lab.setRevision(600 + n + 1000 * round);
      const loopRun = await measure(meter, ['bash', LOOP, lab.flakeDir, ...lab.hosts.map((h) => `${h.name}=root@${h.address}`)], { ...env, NIX_SSHOPTS: lab.sshOptionsString });
      const loopRunCalls = takeNixCalls(shim.logDir);
      if (loopRun.code !== 0) throw new Error(`rebuild-loop.sh exited ${loopRun.code}:\n${tail(loopRun.output)}`);
      await expectAllSwitched(lab, 'rebuild-loop.sh (weighted)');
      rounds.push({ fleet: fleetRun, fleetCalls: fleetRunCalls, loop: loopRun, loopCalls: loopRunCalls });
    }
    const middle = <T>(xs: T[], wall: (x: T) => number) => [...xs].sort((a, b) => wall(a) - wall(b))[Math.floor((xs.length - 1) / 2)]!;
    const { fleet, fleetCalls } = middle(rounds, (r) => r.fleet.wallMs);
    const { loop, loopCalls } = middle(rounds, (r) => r.loop.wallMs);
    const range = (walls: number[]) => (walls.length > 1 ? ` (${s(Math.min(...walls))}–${s(Math.max(...walls))})` : '');
    // The build stage as fleet planned it (the report does not carry the plan): same manifest, same machine.
    const planned = spawnSync(process.execPath, [FLEET_BIN, 'plan', '--json', '-f', manifest], { env: { ...env, FLEET_LAB_REBUILD_FLAVOUR: 'bash' }, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (planned.status !== 0) throw new Error(`fleet plan --json exited ${planned.status}:\n${planned.stderr}`);
    const plan = (JSON.parse(planned.stdout) as { build: { evalJobs: number; evalLimit: number; evaluatorMemoryMiB?: number; chunks: unknown[] } }).build;

    const evals = fleetCalls.evaluationTimes;
    const lastEvalEnd = Math.max(...evals.map((e) => e.end));
    const atOnce = Math.max(...evals.map((e) => evals.filter((o) => o.start <= e.start && e.start < o.end).length));
    const evalCpu = evals.reduce((sum, e) => sum + (e.end - e.start), 0);
    const first = firstActivation(fleet);
    const sinceStart = (t: number) => s(t - fleet.startedAt);
    console.log(table([
      ['', 'wall', 'CPU (tree)', 'nix evals', 'first activation', 'last activation'],
      ['fleet apply', s(fleet.wallMs), s(fleet.cpuMs), String(fleetCalls.evaluations), sinceStart(first), sinceStart(lastActivation(fleet))],
      ['rebuild-loop.sh', s(loop.wallMs), s(loop.cpuMs), String(loopCalls.evaluations), s(firstActivation(loop) - loop.startedAt), s(lastActivation(loop) - loop.startedAt)],
      ['fleet/loop', ratio(fleet.wallMs, loop.wallMs), ratio(fleet.cpuMs, loop.cpuMs), ratio(fleetCalls.evaluations, loopCalls.evaluations), '', ''],
    ]));
    if (REPEAT > 1) {
      console.log(
        `  median of ${REPEAT} rounds (wall, fastest–slowest): fleet ${s(fleet.wallMs)}${range(rounds.map((r) => r.fleet.wallMs))}, ` +
          `loop ${s(loop.wallMs)}${range(rounds.map((r) => r.loop.wallMs))}; the lines below are of fleet's median round`,
      );
    }
    console.log(
      `  fleet: ${plan.chunks.length} chunk(s) of up to ${plan.evalLimit} hosts, eval jobs ${plan.evalJobs}; ${evals.length} evaluators, at most ${atOnce} at once, ` +
        `${s(evalCpu)} of evaluator time; the last evaluation ended ${sinceStart(lastEvalEnd)} after fleet started`,
    );
    console.log(
      `  first host activated ${sinceStart(first)} after fleet started: ` +
        (first < lastEvalEnd ? `${s(lastEvalEnd - first)} BEFORE the last chunk finished evaluating` : `${s(first - lastEvalEnd)} after the last chunk finished evaluating`) +
        ` (goal: before: ${first < lastEvalEnd ? 'met' : 'NOT MET'})`,
    );
    const peaks = fleetCalls.evaluationPeakMiB;
    if (peaks.length === 0) console.log('  evaluators\' peak memory: not measured (no GNU time at /usr/bin/time)');
    else {
      const peak = Math.max(...peaks);
      const limit = plan.evaluatorMemoryMiB;
      console.log(
        `  evaluators' peak memory: ${peaks.map((p) => `${p.toFixed(0)} MiB`).join(', ')}; ` +
          (limit === undefined
            ? 'no limit computed (the chunk size was given)'
            : `the limit fleet computed: ${limit} MiB each (free memory / eval jobs), ${plan.evalLimit} host(s) a chunk at 512 MiB a host (goal: within it: ${peak <= limit && peak <= plan.evalLimit * 512 ? 'met' : 'NOT MET'})`),
      );
    }
    if (n === 8) console.log(`  goal (issue 14): fleet ≤ 0.4× the loop's wall time with this weight: ${fleet.wallMs <= 0.4 * loop.wallMs ? 'met' : 'NOT MET'}`);
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Issue 22's weight: about 0.8 s per evaluator and 3.2 s per host (twice and four times REAL_NIXOS_WEIGHT's units' time). */
const EVAL_CACHE_WEIGHT: EvalWeight = { shared: 2 * REAL_NIXOS_WEIGHT.shared, perHost: 4 * REAL_NIXOS_WEIGHT.perHost };

/**
 * The evaluation cache (issue 22) against the loop, whose `nix build F#attr` Nix's own flake eval
 * cache answers while the flake is unchanged: n installed hosts at EVAL_CACHE_WEIGHT. Unchanged (both
 * warmed on the same revision first): fleet apply and the loop re-apply what runs; then fleet status;
 * then one host's configuration changes (the flake changes: every host misses both caches), once
 * before fleet's run and once before the loop's. REPEAT rounds each; the median is shown.
 */
async function benchEvalCache(n: number, meter: CpuMeter): Promise<void> {
  const names = Array.from({ length: n }, (_, i) => `c${i + 1}`);
  const labStart = performance.now();
  // The weight changes no store path: the lab starts without it (its first systems are built unweighted).
  const lab = await startLab({ hosts: names.map((name) => ({ name, state: 'installed' as const })) });
  lab.setWeight(EVAL_CACHE_WEIGHT);
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-'));
  try {
    console.log(
      `\n== evaluation cache: ${n} lab hosts with evaluation weight ${EVAL_CACHE_WEIGHT.shared} shared + ${EVAL_CACHE_WEIGHT.perHost} per host ` +
        `(about 0.8 s per evaluator + 3.2 s per host; lab ${lab.prefix} up in ${s(performance.now() - labStart)})`,
    );
    const manifest = writeLabManifest(lab, dir, names.map((name) => ({ name })));
    const shim = writeNixShim(dir, findOnPath('nix', lab.env.PATH!));
    const env: NodeJS.ProcessEnv = { ...process.env, ...lab.env, PATH: `${shim.binDir}:${lab.env.PATH}`, CI: 'true', NO_COLOR: '1', FLEET_LAB_REBUILD_FLAVOUR: 'bash' };
    const report = join(dir, 'report.json');
    // Checked without evaluating (lab.toplevels would evaluate the weighted flake once per host): each
    // host runs what fleet's report says, or after the loop what it ran before, but for the changed host
    // c1, which runs a new system holding the package version just set.
    const running = () => names.map((h) => lab.currentSystem(h));
    const expectRuns = (what: string, before: (string | null)[], changedVersion?: number) => {
      running().forEach((now, i) => {
        const changed = changedVersion !== undefined && i === 0;
        const ok = changed ? now !== before[i] && now !== null && existsSync(join(now, 'packages', `bench-tool-${changedVersion}.0`)) : now === before[i];
        if (!ok) throw new Error(`${what}: ${names[i]} runs ${now} (before: ${before[i]})`);
      });
    };
    const fleetApply = async (what: string, changedVersion?: number) => {
      const before = running();
      const m = await measure(meter, [process.execPath, FLEET_BIN, 'apply', '-f', manifest, '--report', report], env);
      const calls = takeNixCalls(shim.logDir);
      if (m.code !== 0) throw new Error(`fleet apply (${what}) exited ${m.code}:\n${tail(m.output)}`);
      const r = JSON.parse(readFileSync(report, 'utf8')) as { evaluatedHosts: number; cachedHosts: number; hosts: { host: string; storePath: string | null }[] };
      for (const h of r.hosts) if (lab.currentSystem(h.host) !== h.storePath) throw new Error(`fleet apply (${what}): ${h.host} runs ${lab.currentSystem(h.host)}, not ${h.storePath}`);
      if (what !== 'warm-up') expectRuns(`fleet apply (${what})`, before, changedVersion);
      return { m, calls, counts: `${r.evaluatedHosts} evaluated, ${r.cachedHosts} cached` };
    };
    const loopRun = async (what: string, changedVersion?: number) => {
      const before = running();
      const m = await measure(meter, ['bash', LOOP, lab.flakeDir, ...lab.hosts.map((h) => `${h.name}=root@${h.address}`)], { ...env, NIX_SSHOPTS: lab.sshOptionsString });
      const calls = takeNixCalls(shim.logDir);
      if (m.code !== 0) throw new Error(`rebuild-loop.sh (${what}) exited ${m.code}:\n${tail(m.output)}`);
      if (what !== 'warm-up') expectRuns(`rebuild-loop.sh (${what})`, before, changedVersion);
      return { m, calls, counts: '' };
    };
    type Run = Awaited<ReturnType<typeof fleetApply>>;
    const mid = (runs: Run[]) => [...runs].sort((a, b) => a.m.wallMs - b.m.wallMs)[Math.floor((runs.length - 1) / 2)]!;
    const walls = (runs: Run[]) => (runs.length > 1 ? ` (${runs.map((r) => s(r.m.wallMs)).join(', ')})` : '');

    // Warm both caches on one revision: fleet's evaluation cache, and Nix's for the loop's attributes.
    lab.setRevision(2200 + n);
    await fleetApply('warm-up');
    await loopRun('warm-up');
    const unchanged = { fleet: [] as Run[], loop: [] as Run[], status: [] as Run[], connect: [] as Run[], start: [] as Run[] };
    // What no run on these hosts can go below: one new ssh connection to every host at once (the
    // lock and probe of fleet apply, the probe of fleet status; each costs its key exchange on both
    // ends, on this machine's cores), and node starting fleet.
    const reference = async (what: string, argv: string[], runs: Run[]) => {
      const m = await measure(meter, argv, { ...env, NIX_SSHOPTS: lab.sshOptionsString });
      if (m.code !== 0) throw new Error(`${what} exited ${m.code}:\n${tail(m.output)}`);
      runs.push({ m, calls: takeNixCalls(shim.logDir), counts: '' });
    };
    const connectAll = ['bash', '-c', 'for t; do ssh $NIX_SSHOPTS "$t" true & done; wait', 'connect', ...lab.hosts.map((h) => `root@${h.address}`)];
    for (let round = 0; round < REPEAT; round++) {
      unchanged.fleet.push(await fleetApply('unchanged'));
      unchanged.loop.push(await loopRun('unchanged'));
      const m = await measure(meter, [process.execPath, FLEET_BIN, 'status', '-f', manifest], env);
      const calls = takeNixCalls(shim.logDir);
      if (m.code !== 0) throw new Error(`fleet status exited ${m.code}:\n${tail(m.output)}`);
      unchanged.status.push({ m, calls, counts: '' });
      await reference('ssh to every host', connectAll, unchanged.connect);
      await reference('fleet --version', [process.execPath, FLEET_BIN, '--version'], unchanged.start);
    }
    // One host's configuration changes before each run: every host's evaluation is new to both caches.
    const changed = { fleet: [] as Run[], loop: [] as Run[] };
    let version = 0;
    const change = () => {
      lab.setPackages(names[0]!, { 'bench-tool': { version: `${++version}.0` } });
      return version;
    };
    for (let round = 0; round < REPEAT; round++) {
      changed.fleet.push(await fleetApply('one host changed', change()));
      changed.loop.push(await loopRun('one host changed', change()));
    }
    const row = (label: string, runs: Run[]) => {
      const r = mid(runs);
      return [label, s(r.m.wallMs), s(r.m.cpuMs), String(r.calls.evaluations), r.counts];
    };
    console.log(table([
      ['', 'wall', 'CPU (tree)', 'nix evals', 'fleet report'],
      row('unchanged: fleet apply', unchanged.fleet),
      row('unchanged: rebuild-loop.sh', unchanged.loop),
      row('unchanged: fleet status', unchanged.status),
      row(`floor: ssh to all ${n} hosts at once`, unchanged.connect),
      row('floor: node starts fleet (--version)', unchanged.start),
      row('one host changed: fleet apply', changed.fleet),
      row('one host changed: rebuild-loop.sh', changed.loop),
    ]));
    const wall = (runs: Run[]) => mid(runs).m.wallMs;
    console.log(
      `  median of ${REPEAT} round(s); walls: unchanged fleet${walls(unchanged.fleet)}, loop${walls(unchanged.loop)}, status${walls(unchanged.status)}; ` +
        `changed fleet${walls(changed.fleet)}, loop${walls(changed.loop)}`,
    );
    const goal = (text: string, met: boolean) => console.log(`  goal (issue 22): ${text}: ${met ? 'met' : 'NOT MET'}`);
    goal(`${n} hosts unchanged: fleet ≤ 0.2× the loop (${ratio(wall(unchanged.fleet), wall(unchanged.loop))})`, wall(unchanged.fleet) <= 0.2 * wall(unchanged.loop));
    goal(`${n} hosts, one changed: fleet ≤ 0.45× the loop (${ratio(wall(changed.fleet), wall(changed.loop))})`, wall(changed.fleet) <= 0.45 * wall(changed.loop));
    goal(`fleet status on the unchanged fleet ≤ 1 s (${s(wall(unchanged.status))})`, wall(unchanged.status) <= 1000);
    console.log(
      `  floor: ${n} ssh connections at once take ${s(wall(unchanged.connect))} (${ratio(wall(unchanged.connect), wall(unchanged.loop))} of the loop) and ` +
        `node starting fleet ${s(wall(unchanged.start))}: fleet apply unchanged is ${s(wall(unchanged.fleet) - wall(unchanged.connect) - wall(unchanged.start))} above their sum`,
    );
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  if (!existsSync(LOOP)) {
    console.error(`apply-vs-loop: the baseline ${LOOP} is missing (it lives beside the repository, in ../shared/bench/); cannot compare`);
    return 1;
  }
  const pre = checkLabPrerequisites();
  if (!pre.ok) {
    console.error(`apply-vs-loop: cannot run here.\n${pre.explanation}`);
    return 1;
  }
  const meter = chooseCpuMeter();
  const nixVersion = spawnSync('nix', ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^nix \(Nix\) /, '');
  console.log(
    `apply-vs-loop: fleet apply (the manifest's default parallelism) against ${LOOP} ${sizes.length > 0 ? `on ${sizes.join(' and ')} lab hosts` : '(weighted runs only)'}; ` +
      `${cpus().length} cores; nix ${nixVersion}; CPU measured with ${meter.kind === 'rusage' ? "bash's times (children's rusage)" : `a ${meter.kind} group per run (the whole tree, ssh masters included)`}`,
  );
  console.log('  ssh conn/host: connections accepted by each host`s sshd (sessions sharing a ControlMaster connection count once);');
  console.log('  which of them carried the closure copy is not in sshd`s INFO log (it names no command), so the copy is not told apart.');
  for (const n of sizes) await benchSize(n, meter);
  const cases = new Set((process.env.WEIGHTED_CASES ?? 'new,eval-cache').split(/[ ,]+/).filter(Boolean));
  for (const weighted of (process.env.WEIGHTED_N ?? '8,16').split(/[ ,]+/).filter(Boolean).map(Number)) {
    if (weighted > 0 && cases.has('new')) await benchWeighted(weighted, meter);
    if (weighted > 0 && cases.has('eval-cache')) await benchEvalCache(weighted, meter);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`apply-vs-loop: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
