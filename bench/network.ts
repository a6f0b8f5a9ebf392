// Benchmark (issue 21, "closures by the shortest path"): fleet apply against the baseline users run
// today (../shared/bench/rebuild-loop.sh, the bash nixos-rebuild's calls, sequential) on lab hosts
// shaped like a real network (docs/lab.md): a binary cache next to the hosts, a capped uplink,
// round-trip time, an incompressible payload shared by every host plus one of each host's own.
// Figures are printed with the goals of the issue, each marked met or NOT MET; on a shared machine
// they are noisy (one run each unless said).
//
//   tsx bench/network.ts
//   NET_SCENARIOS=uplink,push,rtt,tail,scale (default: all) runs only those:
//     uplink  NET_N hosts, NET_PAYLOAD_MIB shared in the cache, NET_HOST_KIB per host in none, this
//             machine's uplink capped at NET_UPLINK_MBIT: bytes sent and wall for fleet, fleet
//             --no-substitutes and the loop (which cannot substitute: nix-copy-closure without
//             --use-substitutes, and the loop is the shared script, unchanged)
//     push    the same with `cache.push` to the lab cache and the shared payload not in it yet
//     rtt     NET_RTT_MS round-trip time on every ssh connection, no cap: fleet against the loop
//     tail    NET_TAIL_RUNS (10) runs of NET_N hosts on the plain LAN, after one not counted: slowest against median
//     scale   NET_SCALE hosts (8,32,64): wall per host and fleet's own CPU per host
//   NET_N=8  NET_PAYLOAD_MIB=64  NET_HOST_KIB=1024  NET_UPLINK_MBIT=40  NET_RTT_MS=50  NET_TAIL_RUNS=10  NET_SCALE=8,32,64
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLabPrerequisites, startLab, type Lab, type LabOptions } from '../test/lab/lab.js';
import { FLEET_BIN, writeLabManifest } from '../test/lab/fleet-harness.js';
import { readOwnCpu, writeCpuPreload } from './node-cpu.js';
import { runChild } from './run-child.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The baseline lives beside the repository, read-only; it is never copied in. */
const LOOP = resolve(REPO, '..', 'shared', 'bench', 'rebuild-loop.sh');
const RUN_TIMEOUT_MS = 20 * 60_000;

function numberFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`network: ${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return n;
}

const SCENARIOS = ['uplink', 'push', 'rtt', 'tail', 'scale'] as const;
type Scenario = (typeof SCENARIOS)[number];
const chosen = (process.env.NET_SCENARIOS ?? SCENARIOS.join(',')).split(/[ ,]+/).filter(Boolean);
for (const c of chosen) {
  if (!(SCENARIOS as readonly string[]).includes(c)) {
    console.error(`network: unknown scenario ${JSON.stringify(c)} in NET_SCENARIOS (known: ${SCENARIOS.join(', ')})`);
    process.exit(2);
  }
}
const N = numberFromEnv('NET_N', 8, 1, 63);
const PAYLOAD_MIB = numberFromEnv('NET_PAYLOAD_MIB', 64, 1, 1024);
const HOST_KIB = numberFromEnv('NET_HOST_KIB', 1024, 1, 1 << 20);
const UPLINK_MBIT = numberFromEnv('NET_UPLINK_MBIT', 40, 1, 100_000);
const RTT_MS = numberFromEnv('NET_RTT_MS', 50, 2, 10_000);
const TAIL_RUNS = numberFromEnv('NET_TAIL_RUNS', 10, 2, 100);
const SCALE = (process.env.NET_SCALE ?? '8,32,64').split(/[ ,]+/).filter(Boolean).map(Number);
if (SCALE.some((n) => !Number.isInteger(n) || n < 1 || n > 250)) {
  console.error(`network: NET_SCALE must list whole numbers from 1 to 250 (got ${process.env.NET_SCALE})`);
  process.exit(2);
}

const MB = 1e6;
const MiB = 1024 * 1024;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '–');
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');

function table(rows: string[][]): string {
  const width = Math.max(...rows.map((r) => r.length));
  const full = rows.map((r) => [...r, ...Array(width - r.length).fill('')]);
  const widths = full[0]!.map((_, i) => Math.max(...full.map((r) => r[i]!.length)));
  return full.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd()).join('\n');
}

function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).map((l) => `    | ${l}`).join('\n');
}

// ------------------------------------------------------------------------------------------------
// What this fleet can do: the product side of issue 21 lands on another branch; until it is here,
// the scenarios that need it say so instead of measuring something else.

interface Features {
  /** `substitutes` in the manifest and `--no-substitutes` on the command line. */
  substitutes: boolean;
  /** `cache: { push, signingKey? }` at the manifest's top level. */
  cachePush: boolean;
}

function readFeatures(): Features {
  const schema = JSON.parse(readFileSync(join(REPO, 'schemas', 'fleet.schema.json'), 'utf8')) as {
    properties: Record<string, unknown>;
    definitions: { host: { properties: Record<string, unknown> } };
  };
  return { substitutes: 'substitutes' in schema.definitions.host.properties, cachePush: 'cache' in schema.properties };
}

const NEEDS_PRODUCT = "needs issue 21's product part (substitutes, cache.push), not in this fleet yet";

// ------------------------------------------------------------------------------------------------
// Running and measuring

interface Measured {
  code: number | null;
  output: string;
  wallMs: number;
  /** What this machine sent into the lab during the run (lab.uplinkBytes()). */
  sentBytes: number;
  /** CPU of fleet's own node process (a preload writes process.cpuUsage() at exit), when known. */
  ownCpuMs: number | null;
}

async function measure(lab: Lab, argv: string[], env: NodeJS.ProcessEnv, cpuOut?: string): Promise<Measured> {
  const sentBefore = lab.uplinkBytes();
  const { code, output, wallMs, pid } = await runChild(argv, env, RUN_TIMEOUT_MS);
  const sentBytes = lab.uplinkBytes() - sentBefore;
  const ownCpuMs = cpuOut ? readOwnCpu(cpuOut, pid) : null;
  return { code, output, wallMs, sentBytes, ownCpuMs };
}

/** A lab with a manifest for all its hosts, and the ways to run fleet and the loop on it. */
interface Bench {
  lab: Lab;
  dir: string;
  fleet(args?: string[], top?: Record<string, unknown>): Promise<Measured>;
  loop(): Promise<Measured>;
  /** A new revision (and a new shared payload when the lab has one, put in the cache when asked): new systems for every host. */
  newSystems(options?: { sharedInCache: boolean }): Promise<void>;
  /** Every host runs the flake's current toplevel, else throws naming the first that does not. */
  expectAllSwitched(what: string): Promise<void>;
  /** Drops old generations on every host (their payloads too), so that the hosts' disks last the benchmark. */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

let generation = 0;

async function startBench(label: string, options: LabOptions): Promise<Bench> {
  const started = performance.now();
  const lab = await startLab(options);
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-net-'));
  console.log(`\n== ${label} (lab ${lab.prefix}: ${lab.hosts.length} hosts, up in ${s(performance.now() - started)})`);
  const names = lab.hosts.map((h) => h.name);
  const preload = writeCpuPreload(dir);
  const env: NodeJS.ProcessEnv = { ...process.env, ...lab.env, CI: 'true', NO_COLOR: '1' };
  // fleet on a machine with the bash nixos-rebuild (as the loop's), activating the prebuilt systems itself.
  const fleetEnv = { ...env, FLEET_LAB_REBUILD_FLAVOUR: 'bash', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload.file}`.trim() };
  const loopEnv = { ...env, NIX_SSHOPTS: lab.sshOptionsString };
  const report = join(dir, 'report.json');
  const bench: Bench = {
    lab,
    dir,
    fleet: async (args = [], top = {}) => {
      const manifest = writeLabManifest(lab, dir, names.map((name) => ({ name })), top);
      rmSync(report, { force: true });
      const m = await measure(lab, [process.execPath, FLEET_BIN, 'apply', '-f', manifest, '--report', report, ...args], fleetEnv, preload.outDir);
      if (m.code !== 0) throw new Error(`fleet apply ${args.join(' ')} exited ${m.code}:\n${tail(m.output)}`);
      return m;
    },
    loop: async () => {
      const m = await measure(lab, ['bash', LOOP, lab.flakeDir, ...lab.hosts.map((h) => `${h.name}=root@${h.address}`)], loopEnv);
      if (m.code !== 0) throw new Error(`rebuild-loop.sh exited ${m.code}:\n${tail(m.output)}`);
      return m;
    },
    newSystems: async (o = { sharedInCache: false }) => {
      generation++;
      lab.setRevision(1000 + generation);
      if (lab.sharedPayload() !== null) {
        await lab.setPayload({ sharedMiB: PAYLOAD_MIB, hostKiB: HOST_KIB, seed: `bench${generation}` });
        if (o.sharedInCache) await lab.cache!.add([lab.sharedPayload()!]);
      }
    },
    expectAllSwitched: async (what) => {
      const wanted = await lab.toplevels();
      for (const h of lab.hosts) {
        if (lab.currentSystem(h.name) !== wanted[h.name]) throw new Error(`${what}: ${h.name} runs ${lab.currentSystem(h.name)}, not ${wanted[h.name]}`);
      }
    },
    collectGarbage: async () => {
      const results = await Promise.all(lab.hosts.map((h) => lab.exec(h.name, ['nix-collect-garbage', '-d'])));
      const failed = results.findIndex((r) => r.exitCode !== 0);
      if (failed >= 0) throw new Error(`nix-collect-garbage on ${lab.hosts[failed]!.name}: ${results[failed]!.stderr.trim()}`);
    },
    stop: async () => {
      await lab.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return bench;
}

// ------------------------------------------------------------------------------------------------
// Scenarios

/** Bytes of the hosts' own parts (their payloads, not the shared one): what fleet should send at most, with overhead. */
const perHostBudget = (n: number) => 1.2 * n * (HOST_KIB * 1024 + 256 * 1024);

async function uplinkAndPush(features: Features, runUplink: boolean, runPush: boolean): Promise<boolean> {
  const bench = await startBench(
    `uplink: ${N} hosts, ${PAYLOAD_MIB} MiB shared (in the lab cache), ${HOST_KIB} KiB per host (in no cache), this machine's uplink capped at ${UPLINK_MBIT} Mbit/s`,
    {
      hosts: Array.from({ length: N }, (_, i) => ({ name: `u${i + 1}`, state: 'installed' as const })),
      cache: true,
      uplinkMbit: UPLINK_MBIT,
      payload: { sharedMiB: PAYLOAD_MIB, hostKiB: HOST_KIB, seed: 'bench0' },
    },
  );
  let ok = true;
  try {
    if (runUplink) {
      const rows: string[][] = [['new systems', 'sent', 'sent/host', 'wall', 'wall/host']];
      const row = (label: string, m: Measured) => [label, mb(m.sentBytes), mb(m.sentBytes / N), s(m.wallMs), s(m.wallMs / N)];

      await bench.newSystems({ sharedInCache: true });
      const fleet = await bench.fleet();
      await bench.expectAllSwitched('fleet apply');
      rows.push(row(features.substitutes ? 'fleet apply' : 'fleet apply (no substitution in this fleet yet)', fleet));
      await bench.collectGarbage();

      let noSubs: Measured | null = null;
      if (features.substitutes) {
        await bench.newSystems({ sharedInCache: true });
        noSubs = await bench.fleet(['--no-substitutes']);
        await bench.expectAllSwitched('fleet apply --no-substitutes');
        rows.push(row('fleet apply --no-substitutes', noSubs));
        await bench.collectGarbage();
      } else {
        rows.push(['fleet apply --no-substitutes', '–', '–', '–', '–']);
      }

      await bench.newSystems({ sharedInCache: true });
      const loop = await bench.loop();
      await bench.expectAllSwitched('rebuild-loop.sh');
      rows.push(row('rebuild-loop.sh (no substitution)', loop));
      rows.push(['fleet/loop', ratio(fleet.sentBytes, loop.sentBytes), '', ratio(fleet.wallMs, loop.wallMs)]);
      await bench.collectGarbage();
      console.log(table(rows));
      if (!noSubs) console.log(`  fleet apply --no-substitutes: ${NEEDS_PRODUCT}`);
      console.log(
        '  the loop with substitution: not measured. rebuild-loop.sh is the shared script, unchanged, and its nix-copy-closure\n' +
          '  has no --use-substitutes (nor a setting that would add it), so it always uploads; a copy with the flag is not the loop.',
      );
      const budget = perHostBudget(N);
      const sentOk = fleet.sentBytes <= budget && fleet.sentBytes < PAYLOAD_MIB * MiB;
      const wallOk = fleet.wallMs <= 0.2 * loop.wallMs;
      console.log(
        `  goal: fleet sends ≤ 1.2 × (Σ per-host parts + overhead) = ${mb(budget)}, never the shared ${mb(PAYLOAD_MIB * MiB)}: ${mb(fleet.sentBytes)}, ${verdict(sentOk)}` +
          (features.substitutes ? '' : ` (${NEEDS_PRODUCT})`),
      );
      console.log(`  goal: fleet's wall ≤ 0.2× the loop's: ${ratio(fleet.wallMs, loop.wallMs)}, ${verdict(wallOk)}`);
      if (noSubs) console.log(`  fleet --no-substitutes sent ${ratio(noSubs.sentBytes, fleet.sentBytes)} what fleet sent with substitution`);
      ok &&= sentOk && wallOk;
    }

    if (runPush) {
      console.log(`\n== push: the same lab, fleet with cache.push to the lab cache (HTTP PUT over the capped uplink), the shared ${PAYLOAD_MIB} MiB not in the cache yet`);
      if (!features.cachePush) {
        console.log(`  fleet apply with cache.push: ${NEEDS_PRODUCT}`);
        return false;
      }
      await bench.newSystems({ sharedInCache: false });
      const shared = bench.lab.sharedPayload()!;
      const cache = bench.lab.cache!;
      const push = await bench.fleet([], { cache: { push: `${cache.url}?compression=none`, signingKey: cache.secretKeyFile } });
      await bench.expectAllSwitched('fleet apply (cache.push)');
      const budget = 1.2 * (PAYLOAD_MIB * MiB + N * HOST_KIB * 1024);
      const sentOk = push.sentBytes <= budget;
      console.log(table([
        ['', 'sent', 'wall', 'shared path in the cache after'],
        ['fleet apply, cache.push', mb(push.sentBytes), s(push.wallMs), cache.has(shared) ? 'yes' : 'NO'],
      ]));
      console.log(`  goal: each path sent once, ≤ 1.2 × (${PAYLOAD_MIB} MiB + ${N} × ${HOST_KIB} KiB) = ${mb(budget)}: ${mb(push.sentBytes)}, ${verdict(sentOk)}`);
      ok &&= sentOk && cache.has(shared);
    }
  } finally {
    await bench.stop();
  }
  return ok;
}

async function roundTrips(features: Features): Promise<boolean> {
  const bench = await startBench(`rtt: ${N} hosts, ${RTT_MS} ms round-trip time on every ssh connection, no cap, ${PAYLOAD_MIB} MiB shared in the cache, ${HOST_KIB} KiB per host`, {
    hosts: Array.from({ length: N }, (_, i) => ({ name: `r${i + 1}`, state: 'installed' as const })),
    cache: true,
    rttMs: RTT_MS,
    payload: { sharedMiB: PAYLOAD_MIB, hostKiB: HOST_KIB, seed: 'bench0' },
  });
  try {
    const via = () => Object.values(bench.lab.rttConnections()).reduce((a, b) => a + b, 0);
    await bench.newSystems({ sharedInCache: true });
    let before = via();
    const fleet = await bench.fleet();
    const fleetConnections = via() - before;
    await bench.expectAllSwitched('fleet apply');
    await bench.collectGarbage();
    await bench.newSystems({ sharedInCache: true });
    before = via();
    const loop = await bench.loop();
    const loopConnections = via() - before;
    await bench.expectAllSwitched('rebuild-loop.sh');
    await bench.collectGarbage();
    console.log(table([
      ['new systems', 'wall', 'wall/host', 'sent', 'ssh connections (through the delay)'],
      [features.substitutes ? 'fleet apply' : 'fleet apply (no substitution in this fleet yet)', s(fleet.wallMs), s(fleet.wallMs / N), mb(fleet.sentBytes), String(fleetConnections)],
      ['rebuild-loop.sh', s(loop.wallMs), s(loop.wallMs / N), mb(loop.sentBytes), String(loopConnections)],
      ['fleet/loop', ratio(fleet.wallMs, loop.wallMs), '', ratio(fleet.sentBytes, loop.sentBytes), ratio(fleetConnections, loopConnections)],
    ]));
    const ok = fleet.wallMs <= 0.25 * loop.wallMs;
    console.log(`  goal: fleet ≤ 0.25× the loop's wall at ${RTT_MS} ms: ${ratio(fleet.wallMs, loop.wallMs)}, ${verdict(ok)}`);
    return ok;
  } finally {
    await bench.stop();
  }
}

async function tailRuns(): Promise<boolean> {
  const bench = await startBench(`tail: ${TAIL_RUNS} runs of fleet apply on ${N} hosts, plain LAN, new systems each`, {
    hosts: Array.from({ length: N }, (_, i) => ({ name: `t${i + 1}`, state: 'installed' as const })),
  });
  try {
    // One run first, not counted: it fills what any later run finds ready (fleet's cache of tool
    // answers, the hosts' first sessions), which is not the tail this measures.
    await bench.newSystems();
    const warmUp = (await bench.fleet()).wallMs;
    await bench.expectAllSwitched('fleet apply, warm-up run');
    console.log(`  warm-up run (not counted): ${s(warmUp)}`);
    const walls: number[] = [];
    for (let i = 0; i < TAIL_RUNS; i++) {
      await bench.newSystems();
      walls.push((await bench.fleet()).wallMs);
      await bench.expectAllSwitched(`fleet apply, run ${i + 1}`);
    }
    const sorted = [...walls].sort((a, b) => a - b);
    // Of an even count, the slower middle one: the stricter goal.
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const slowest = sorted.at(-1)!;
    console.log(`  walls: ${walls.map(s).join(', ')}`);
    console.log(`  fastest ${s(sorted[0]!)}, median ${s(median)}, slowest ${s(slowest)}`);
    const ok = slowest <= 1.3 * median;
    console.log(`  goal: slowest ≤ 1.3× the median: ${ratio(slowest, median)}, ${verdict(ok)}`);
    return ok;
  } finally {
    await bench.stop();
  }
}

async function scale(): Promise<boolean> {
  console.log(`\n== scale: fleet apply of new systems on ${SCALE.join(', ')} hosts (plain LAN; past 63 hosts the lab uses its bridge network)`);
  const rows: string[][] = [['hosts', 'lab up', 'wall', 'wall/host', 'fleet CPU', 'fleet CPU/host']];
  let ok = true;
  const perHostWalls: number[] = [];
  for (const n of SCALE) {
    let bench: Bench;
    const started = performance.now();
    try {
      bench = await startBench(`scale: ${n} hosts`, {
        hosts: Array.from({ length: n }, (_, i) => ({ name: `s${i + 1}`, state: 'installed' as const })),
        ...(n > 63 ? { network: 'bridge' as const } : {}),
      });
    } catch (err) {
      rows.push([String(n), `the lab did not start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`]);
      ok = false;
      break;
    }
    const up = performance.now() - started;
    try {
      await bench.newSystems();
      const m = await bench.fleet();
      await bench.expectAllSwitched(`fleet apply on ${n} hosts`);
      perHostWalls.push(m.wallMs / n);
      const cpuOk = m.ownCpuMs !== null && m.ownCpuMs / n <= 50;
      ok &&= cpuOk;
      rows.push([String(n), s(up), s(m.wallMs), s(m.wallMs / n), m.ownCpuMs === null ? '–' : s(m.ownCpuMs), m.ownCpuMs === null ? '–' : `${s(m.ownCpuMs / n)} (${verdict(cpuOk)})`]);
    } finally {
      await bench.stop();
    }
  }
  console.log(`\n${table(rows)}`);
  const grows = perHostWalls.some((w, i) => i > 0 && w > 1.1 * perHostWalls[0]!);
  console.log(`  goal: wall per host does not grow with the fleet: ${perHostWalls.map(s).join(' → ')}, ${verdict(!grows && perHostWalls.length === SCALE.length)}`);
  console.log("  goal: fleet's own CPU per host ≤ 0.05 s: see the last column");
  return ok && !grows;
}

async function main(): Promise<number> {
  if (!existsSync(LOOP)) {
    console.error(`network: the baseline ${LOOP} is missing (it lives beside the repository, in ../shared/bench/); cannot compare`);
    return 1;
  }
  const pre = checkLabPrerequisites();
  if (!pre.ok) {
    console.error(`network: cannot run here.\n${pre.explanation}`);
    return 1;
  }
  const features = readFeatures();
  const want = (x: Scenario) => chosen.includes(x);
  console.log(
    `network: fleet apply against ${LOOP} on lab hosts shaped like a real network; ${cpus().length} cores, shared: figures are noisy. ` +
      `This fleet: substitutes ${features.substitutes ? 'yes' : 'no'}, cache.push ${features.cachePush ? 'yes' : 'no'}.`,
  );
  const results: Record<string, boolean> = {};
  if (want('uplink') || want('push')) {
    const ok = await uplinkAndPush(features, want('uplink'), want('push'));
    results[[want('uplink') ? 'uplink' : '', want('push') ? 'push' : ''].filter(Boolean).join('+')] = ok;
  }
  if (want('rtt')) results.rtt = await roundTrips(features);
  if (want('tail')) results.tail = await tailRuns();
  if (want('scale')) results.scale = await scale();
  console.log(`\nnetwork: goals ${Object.entries(results).map(([k, v]) => `${k} ${verdict(v)}`).join(', ')}`);
  // A goal not met is a figure, not a failure of the benchmark; exit non-zero only when it could not run.
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`network: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
