// Benchmark: `fleet apply` against N lab hosts vs. the shell-wrapper way, a sequential loop of
// `nixos-rebuild switch --flake F#host --target-host root@addr`: wall time and nix evaluations of each.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkLabPrerequisites, startLab, type Lab } from '../test/lab/lab.js';
import { FLEET_BIN, writeLabManifest } from '../test/lab/fleet-harness.js';

const n = Number(process.argv[2] ?? process.env.N ?? 8);
if (!Number.isInteger(n) || n < 1 || n > 63) {
  console.error(`apply-vs-loop: N must be a whole number from 1 to 63 (got ${process.argv[2] ?? process.env.N})`);
  process.exit(2);
}

/** nix subcommands; the first argument that is one of these is the call's subcommand. */
const SUBCOMMANDS = new Set([
  'build', 'bundle', 'copy', 'daemon', 'derivation', 'develop', 'edit', 'eval', 'flake', 'hash', 'key', 'log',
  'nar', 'path-info', 'print-dev-env', 'profile', 'realisation', 'registry', 'repl', 'run', 'search', 'shell',
  'show-config', 'show-derivation', 'store', 'why-depends',
]);

interface NixCalls {
  /** Calls per subcommand. */
  bySubcommand: Map<string, number>;
  /** Calls that evaluate Nix code: `nix eval`, and `nix build` of a flake installable (`F#attr`). */
  evaluations: number;
}

/**
 * A `nix` first on PATH that records each call's argv (one file per call, NUL-separated, since
 * arguments such as fleet's `--apply` expression contain newlines) and then runs the real nix.
 */
function writeNixShim(dir: string, realNix: string): { binDir: string; logDir: string } {
  const binDir = join(dir, 'shim-bin');
  const logDir = join(dir, 'shim-log');
  mkdirSync(binDir);
  mkdirSync(logDir);
  const script = [
    '#!/bin/sh',
    '# bench/apply-vs-loop.ts: record the call, then run the real nix.',
    `f=$(mktemp "${logDir}/call.XXXXXXXX") && printf '%s\\0' "$@" > "$f"`,
    `exec ${realNix} "$@"`,
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
  throw new Error(`apply-vs-loop: ${cmd} not found on PATH`);
}

/** Reads and clears the calls the shim recorded. */
function takeNixCalls(logDir: string): NixCalls {
  const bySubcommand = new Map<string, number>();
  let evaluations = 0;
  for (const file of readdirSync(logDir)) {
    const argv = readFileSync(join(logDir, file), 'utf8').split('\0').slice(0, -1);
    rmSync(join(logDir, file));
    const sub = argv.find((a) => SUBCOMMANDS.has(a)) ?? (argv.includes('--version') ? '--version' : '(other)');
    bySubcommand.set(sub, (bySubcommand.get(sub) ?? 0) + 1);
    const rest = argv.slice(argv.indexOf(sub) + 1);
    if (sub === 'eval' || (sub === 'build' && rest.some((a) => !a.startsWith('-') && a.includes('#')))) evaluations++;
  }
  return { bySubcommand, evaluations };
}

function describeCalls(calls: NixCalls): string {
  return [...calls.bySubcommand].sort(([a], [b]) => a.localeCompare(b)).map(([s, c]) => `${s} ${c}`).join(', ') || 'none';
}

interface Run {
  code: number | null;
  output: string;
}

function run(argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).map((l) => `    | ${l}`).join('\n');
}

/** Every host runs the flake's current toplevel (live and boot default); else throws naming the first that does not. */
async function expectAllSwitched(lab: Lab, names: string[], what: string): Promise<void> {
  // One toplevels() call per host: a single `nix build --json` of many installables does not list
  // its outputs in argument order (h1, h10, h11, … with Nix 2.8), which toplevels() assumes.
  const wanted = await Promise.all(names.map(async (name) => (await lab.toplevels([name]))[name]));
  names.forEach((name, i) => {
    if (lab.currentSystem(name) !== wanted[i]) {
      throw new Error(`${what}: ${name} runs ${lab.currentSystem(name)}, not ${wanted[i]}`);
    }
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The parts of fleet's JSON report (`--report`) this benchmark reads. */
interface FleetReport {
  startedAt: string;
  evaluations: number;
  hosts: { startedAt: string; durationMs: number; steps: { step: string; durationMs: number }[] }[];
}

/** Where fleet's wall time went: the build stage (until the first host starts), then per-host medians. */
function fleetBreakdown(report: FleetReport): string {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const firstHost = Math.min(...report.hosts.map((h) => Date.parse(h.startedAt)));
  const build = firstHost - Date.parse(report.startedAt);
  const steps = [...new Set(report.hosts.flatMap((h) => h.steps.map((s) => s.step)))];
  const perStep = steps
    .map((step) => [step, median(report.hosts.map((h) => h.steps.find((s) => s.step === step)?.durationMs ?? 0))] as const)
    .filter(([, ms]) => ms >= 10)
    .map(([step, ms]) => `${step} ${seconds(ms)}`);
  return `build stage ${seconds(build)}; per host (median) ${seconds(median(report.hosts.map((h) => h.durationMs)))}: ${perStep.join(', ')}`;
}

async function main(): Promise<number> {
  const pre = checkLabPrerequisites();
  if (!pre.ok) {
    console.error(`apply-vs-loop: cannot run here.\n${pre.explanation}`);
    return 1;
  }
  const names = Array.from({ length: n }, (_, i) => `h${i + 1}`);
  console.log(`apply-vs-loop: starting ${n} installed lab hosts…`);
  const labStart = performance.now();
  const lab = await startLab({ hosts: names.map((name) => ({ name, state: 'installed' as const })) });
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-'));
  try {
    console.log(`  lab ${lab.prefix} up in ${seconds(performance.now() - labStart)}`);
    const manifest = writeLabManifest(lab, dir, names.map((name) => ({ name })));
    const shim = writeNixShim(dir, findOnPath('nix', lab.env.PATH!));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...lab.env,
      PATH: `${shim.binDir}:${lab.env.PATH}`,
      CI: 'true',
      NO_COLOR: '1',
    };

    // (a) fleet apply: one build stage for all hosts, then the hosts in parallel (manifest default).
    lab.setRevision(2);
    const report = join(dir, 'report.json');
    const aStart = performance.now();
    const a = await run([process.execPath, FLEET_BIN, 'apply', '-f', manifest, '--report', report], env);
    const aMs = performance.now() - aStart;
    const aCalls = takeNixCalls(shim.logDir);
    if (a.code !== 0) throw new Error(`fleet apply exited ${a.code}:\n${tail(a.output)}`);
    await expectAllSwitched(lab, names, 'fleet apply');
    const json = JSON.parse(readFileSync(report, 'utf8')) as FleetReport;
    const reported = json.evaluations;

    // (b) what shell wrappers do: one nixos-rebuild per host, one after the other; a new revision
    // so that it evaluates, builds, copies and activates for real too.
    lab.setRevision(3);
    const loopEnv = { ...env, NIX_SSHOPTS: lab.sshOptionsString };
    const bStart = performance.now();
    for (const host of lab.hosts) {
      const argv = ['nixos-rebuild', 'switch', '--flake', `${lab.flakeDir}#${host.name}`, '--target-host', `root@${host.address}`];
      const b = await run(argv, loopEnv);
      if (b.code !== 0) throw new Error(`${argv.join(' ')} exited ${b.code}:\n${tail(b.output)}`);
    }
    const bMs = performance.now() - bStart;
    const bCalls = takeNixCalls(shim.logDir);
    await expectAllSwitched(lab, names, 'the nixos-rebuild loop');

    const rows = [
      ['(a) fleet apply', seconds(aMs), `${aCalls.evaluations} (report: ${reported})`, describeCalls(aCalls)],
      ['(b) nixos-rebuild loop', seconds(bMs), String(bCalls.evaluations), describeCalls(bCalls)],
    ];
    const header = ['', 'wall', 'nix evaluations', 'nix calls'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('   ')}`.trimEnd();
    console.log(`\napply-vs-loop: ${n} hosts, each switched to a new system by both (fleet: parallel ${Math.min(n, 10)} at once, the default)`);
    console.log(line(header));
    for (const r of rows) console.log(line(r));
    console.log(`  loop / fleet: ${(bMs / aMs).toFixed(2)}× wall time; ${bCalls.evaluations} vs ${aCalls.evaluations} evaluations`);
    console.log(`  fleet's time: ${fleetBreakdown(json)}`);
    console.log('  (fleet also takes a deploy lock, probes, arms and confirms a rollback watchdog per host; the loop does none of that)');
    return 0;
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`apply-vs-loop: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
