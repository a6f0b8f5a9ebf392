// The demo (`npm run demo`): three lab hosts (one bare, two installed), a manifest for them, a real
// `fleet apply --yes` streaming to this terminal, the hosts' generations before and after, teardown.
// `npm run demo` installs what a fresh machine lacks first (scripts/ensure-deps.mjs); this script
// builds dist/ when it is older than src/, and needs root (the lab's namespaces and mounts).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { checkLabPrerequisites, listLabDirs, readLabRecord, startLab, teardownSync, type Generation, type Lab } from '../test/lab/lab.js';
import { FLEET_BIN, writeLabManifest } from '../test/lab/fleet-harness.js';
import { $, cd, glob, type ProcessPromise } from 'zx';
import { fileURLToPath } from 'node:url';

const HOSTS = [
  { name: 'edge', state: 'bare' as const },
  { name: 'web1', state: 'installed' as const },
  { name: 'web2', state: 'installed' as const },
];
/** Longest we let fleet finish after a Ctrl-C before killing it (its own grace period is 3 s). */
const INTERRUPT_GRACE_MS = 30_000;

cd(join(dirname(fileURLToPath(import.meta.url)), '..'));
const t0 = Date.now();
const bold = process.stdout.isTTY && !process.env.NO_COLOR ? (s: string) => `\u001b[1m${s}\u001b[22m` : (s: string) => s;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const heading = (s: string) => console.log(`\n${bold(`== ${s}`)}`);

// ------------------------------------------------------------------------------------------------
// Teardown on every way out. The lab is started with keepOnExit so that its own signal handlers do
// not tear the hosts down under a fleet run that is still finishing after Ctrl-C; this file owns
// cleanup instead: every lab whose record names this process (after startLab has settled).

let workDir: string | null = null;
let fleet: ProcessPromise | null = null;
/** startLab is under way: its own processes are still creating hosts, so teardown waits for it. */
let starting = false;
let interrupted = false;
let cleanedUp = false;

function cleanup(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const dir of listLabDirs()) {
    if (readLabRecord(dir)?.ownerPid === process.pid) teardownSync(dir);
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (fleet && fleet.exitCode === null) {
      // Ctrl-C reaches fleet from the terminal by itself (same process group); forwarding SIGINT would
      // count as a second Ctrl-C. Other signals are passed on. Either way fleet prints its summary
      // and exits, then the lab goes.
      if (!interrupted) {
        interrupted = true;
        console.error(`\ndemo: ${sig}: letting fleet finish its interrupted run, then tearing the lab down`);
        if (sig !== 'SIGINT') void fleet.kill('SIGINT');
        setTimeout(() => void fleet?.kill('SIGKILL'), INTERRUPT_GRACE_MS).unref();
      }
      return;
    }
    if (starting) {
      // Tearing down under a half-built lab races its host processes; startLab finishes or fails
      // (its tools get the same Ctrl-C), then main() sees the flag and tears down.
      if (!interrupted) console.error(`\ndemo: ${sig}: stopping once the lab has come up (or failed to)`);
      interrupted = true;
      return;
    }
    console.error(`\ndemo: ${sig}: tearing the lab down`);
    cleanup();
    process.exit(130);
  });
}

/** Leaves with 130 when a signal came in while the demo could not stop at once. */
function exitIfInterrupted(): void {
  if (!interrupted) return;
  console.error('demo: interrupted; tearing the lab down');
  cleanup();
  process.exit(130);
}

// ------------------------------------------------------------------------------------------------

function shortPath(storePath: string): string {
  // /nix/store/<hash>-nixos-system-web1-25.11.lab-r2 → <hash:8>…-nixos-system-web1-25.11.lab-r2
  const name = basename(storePath);
  return `${name.slice(0, 8)}…${name.slice(32)}`;
}

function describeGenerations(gens: Generation[]): string {
  if (gens.length === 0) return 'none (not NixOS)';
  return gens.map((g) => `${g.generation}${g.current ? '*' : ''} ${shortPath(g.storePath)}`).join(', ');
}

async function runFleetLive(lab: Lab, args: string[]): Promise<number> {
  fleet = $({ stdio: 'inherit', nothrow: true, env: { ...process.env, ...lab.env } })`${process.execPath} ${FLEET_BIN} ${args}`;
  const done = await fleet;
  return done.exitCode ?? (done.signal === 'SIGINT' ? 130 : 1);
}

/** dist/ must exist and be newer than every file under src/ and the build configuration. */
async function buildIfStale(): Promise<void> {
  const stamp = 'dist/cli/main.js';
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const sources = await glob(['src/**', 'tsconfig.json', 'tsconfig.build.json']);
  if (sources.every((file) => statSync(file).mtimeMs <= built)) return;
  console.error('demo: building (npm run build)');
  await $({ stdio: 'inherit' })`npm run --silent build`;
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('demo: the demo needs root: its lab hosts are network namespaces with their own mounts and sshd.');
    console.error('  run: sudo npm run demo   (or in a root container)');
    return 1;
  }
  await buildIfStale();
  const pre = checkLabPrerequisites();
  if (!pre.ok) {
    console.error(pre.explanation);
    return 1;
  }

  heading(`Starting a lab: ${HOSTS.map((h) => `${h.name} (${h.state})`).join(', ')}`);
  starting = true;
  let lab: Lab;
  try {
    lab = await startLab({ hosts: HOSTS, keepOnExit: true });
  } finally {
    starting = false;
  }
  exitIfInterrupted();
  for (const h of lab.hosts) {
    console.log(`  ${h.name.padEnd(5)} ${h.address.padEnd(15)} ${h.state === 'bare' ? 'rescue system, empty disk' : 'NixOS, generation 1'}`);
  }
  console.log(`  up in ${secs(Date.now() - t0)} (network namespaces with their own sshd and Nix store; flake ${lab.flakeDir})`);

  workDir = mkdtempSync(join(tmpdir(), 'fleet-demo-'));
  const manifest = writeLabManifest(lab, workDir, [{ name: 'edge', bootstrap: true }, { name: 'web1' }, { name: 'web2' }]);
  heading(`The manifest: ${manifest}`);
  console.log(readFileSync(manifest, 'utf8').trimEnd());

  const before = Object.fromEntries(lab.hosts.map((h) => [h.name, lab.generations(h.name)]));
  lab.setRevision(2);
  heading('The flake moved to revision 2: every host has a new system to get');

  exitIfInterrupted();
  const args = ['apply', '-f', manifest, '--yes'];
  heading(`fleet ${args.join(' ')}`);
  const applyStart = Date.now();
  const code = await runFleetLive(lab, args);
  const applyMs = Date.now() - applyStart;
  fleet = null;

  heading(`Generations on the hosts (fleet exited ${code} after ${secs(applyMs)}; * = current)`);
  for (const h of lab.hosts) {
    const live = lab.currentSystem(h.name);
    console.log(`  ${h.name}`);
    console.log(`    before  ${describeGenerations(before[h.name] ?? [])}`);
    console.log(`    after   ${describeGenerations(lab.generations(h.name))}`);
    console.log(`    live    ${live ?? '(none)'}`);
  }

  heading('Tearing the lab down');
  await lab.stop();
  cleanup();
  console.log(`  done; the demo took ${secs(Date.now() - t0)} in all${interrupted ? ' (interrupted)' : ''}`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
    cleanup();
    process.exit(interrupted ? 130 : 1);
  },
);
