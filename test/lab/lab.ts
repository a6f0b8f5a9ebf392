// Owns the lab: NixOS-like test hosts on this machine (netns + private mounts + own sshd and Nix store),
// the test flake, the stand-ins' environment, fault injection and complete teardown.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, randomBytes, randomInt } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $, quote } from 'zx';

// ------------------------------------------------------------------------------------------------
// Public types

/** How a host's configuration behaves when activated (baked into its toplevel by the test flake). */
export type Variant = 'good' | 'breaks-ssh' | 'units-fail' | 'needs-reboot' | 'fails' | 'slow' | 'eval-fails';

/**
 * How much evaluating the lab flake costs, in units of 10,000 additions: `shared` once per
 * evaluator (bound at the flake's top, like importing nixpkgs), `perHost` in each configuration.
 * Calibrated on the 2-core machine of issue 14: 150 shared ≈ 0.4 s, 700 per host ≈ 0.8 s
 * ({@link REAL_NIXOS_WEIGHT}). Changes no store path.
 */
export interface EvalWeight {
  shared: number;
  perHost: number;
}

/** About 0.4 s per evaluator and 0.8 s per host, as a real NixOS configuration costs (issue 14). */
export const REAL_NIXOS_WEIGHT: EvalWeight = { shared: 150, perHost: 700 };

/** A versioned package in a host's closure: `<name>-<version>`, `kib` KiB large (default 1). */
export interface LabPackage {
  version: string;
  kib?: number;
}

/** A host to start: `bare` = not NixOS (rescue system, empty store); `installed` = NixOS with generation 1. */
export interface LabHostSpec {
  name: string;
  state: 'bare' | 'installed';
  variant?: Variant;
  /** Versioned packages in its system's closure, by name (also in an installed host's first generation). */
  packages?: Record<string, LabPackage>;
  /** Specialisations of its system (`<toplevel>/specialisation/<name>`, each a whole system). */
  specialisations?: string[];
}

export interface LabOptions {
  hosts: LabHostSpec[];
  /** Short name part (≤ 6 chars of [a-z0-9]); random when omitted. */
  prefix?: string;
  /** Initial revision of the flake (default 1). */
  revision?: number;
  /** Seconds the `slow` variant sleeps while activating (default 5). */
  slowSeconds?: number;
  /** Evaluation weight of the flake (default none); see {@link EvalWeight}. */
  weight?: EvalWeight;
  /** Size of each host's fake disk (tmpfs) in MiB (default 64; with a payload, 64 + 4 × its sharedMiB). */
  diskMiB?: number;
  /** Size of each host's installer RAM (tmpfs) in MiB (default 64). */
  ramMiB?: number;
  /** Leave the lab running when this process exits (the CLI's `lab up`). */
  keepOnExit?: boolean;
  /**
   * A binary-cache host in its own network namespace (default off: hosts have no substituters, as
   * before): a static HTTP binary cache signed with a lab key that every host trusts (its nix.conf
   * gets `substituters = <lab.cache.url>` and `trusted-public-keys = <lab.cache.publicKey>`).
   * Puts the lab on a bridge (see {@link Lab.network}).
   */
  cache?: boolean;
  /**
   * Caps what the deploying machine (this root namespace) sends to the lab at this many Mbit/s: a
   * `tbf` qdisc on the lab's bridge device, which carries only what this machine sends; traffic
   * between the cache and the hosts is bridged port to port and never passes it (netem is not in
   * this kernel). Puts the lab on a bridge. {@link Lab.setUplink} changes it later.
   */
  uplinkMbit?: number;
  /**
   * Round-trip time added to every ssh connection of the lab (the lab's own, fleet's through
   * {@link Lab.fleetSshOptions}, nix's and the baseline loop's through NIX_SSHOPTS =
   * {@link Lab.sshOptionsString}, the ssh config): each goes through `ProxyCommand <dir>/rtt/%h`,
   * which execs `delaycat <host> 22 <rttMs/2, rounded>` (../shared/bench/delaycat.c, built at lab start),
   * delaying each direction by half of it. Default 0: none.
   */
  rttMs?: number;
  /** Incompressible payload in every host's system (default none); see {@link LabPayload}. */
  payload?: LabPayload;
  /**
   * `veth` (a veth pair per host, at most 63 hosts) unless `cache` or `uplinkMbit` is given, which
   * need `bridge` (one bridge for all, up to 250 hosts); see {@link Lab.network}.
   */
  network?: 'veth' | 'bridge';
}

/**
 * What the lab systems carry when the option is on, the shape of a real update: one path shared by
 * every host (`sharedMiB`, incompressible, deterministic for its `seed`: the same seed and size give
 * the same store path in any lab, so it can sit in the lab cache like a kernel on cache.nixos.org;
 * made at lab start and added with `nix-store --add-fixed`, behind a fixed-output derivation) and
 * a small path of each host's own (`hostKiB` of random bytes, new for every host and revision, in
 * no cache). Both are in the host's toplevel closure from the first deploy on; an installed host's
 * first generation carries neither (its base system), so the first deploy brings them as new.
 */
export interface LabPayload {
  sharedMiB: number;
  hostKiB: number;
  /** [a-z0-9]{1,16}; default "1". A new seed is a new shared path (the next kernel). */
  seed?: string;
}

/** The lab binary cache (option `cache`). */
export interface LabCache {
  /** The cache's address (in its own namespace, on the lab bridge) and port. */
  address: string;
  port: number;
  /** `http://<address>:<port>`: what the hosts substitute from. */
  url: string;
  /** `<name>:<base64>`, trusted by every host. */
  publicKey: string;
  /** The secret key file (`nix-store --generate-binary-cache-key`), for signing what is pushed. */
  secretKeyFile: string;
  /** The directory served (a `file://` binary cache). */
  dir: string;
  /**
   * A store URL that pushes to the cache over the lab network (HTTP PUT, signed, uncompressed), as
   * to a remote cache: what crosses the uplink cap and {@link Lab.uplinkBytes}. For `cache.push`.
   */
  pushUrl: string;
  /** Copies store paths (with their closures) from this machine's store into the cache, signed, without using the network. */
  add(paths: string[]): Promise<void>;
  /** Whether the cache has this store path (its narinfo). */
  has(path: string): boolean;
  /** Stops the HTTP server (hosts then get connection refused and must fall back to the upload). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Requests the server answered, oldest first (`remote` is the client's address). */
  requests(): CacheRequest[];
}

export interface CacheRequest {
  time: string;
  remote: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
}

/** Directories of one host, as seen from this machine. */
export interface LabHostDirs {
  /** The host's directory (everything of the host lives below it). */
  root: string;
  /** The fake disk (tmpfs): nix/, etc/ (upper of /etc), boot/, persist/, data/ of an installed system. */
  disk: string;
  /** The installer's RAM (tmpfs): same layout, used while the host is bare. */
  ram: string;
  /** The host's /run: a tmpfs, emptied at every boot (as NixOS's /run, and so /run/keys). */
  run: string;
  /** Bound at /run/lab inside the host: activation log, boot id, sshd log, host-side scripts. */
  lab: string;
}

export interface LabHost {
  name: string;
  /** IPv4 address (exists only inside the host's network namespace). */
  address: string;
  port: 22;
  /** Host key line as it appears in known_hosts after the address: `ssh-ed25519 AAAA…`. */
  hostPublicKey: string;
  netns: string;
  state: 'bare' | 'installed';
  dirs: LabHostDirs;
}

/** One switch-to-configuration call recorded by the host. */
export interface Activation {
  action: 'switch' | 'boot' | 'test' | 'dry-activate';
  storePath: string;
  time: string;
  exitCode: number;
  variant: Variant;
  installBootloader: boolean;
  bootId: string;
  /** The specialisation whose switch-to-configuration this was (absent: the system itself). */
  specialisation?: string;
}

/** One stand-in invocation from $FLEET_LAB_LOG. */
export interface ToolInvocation {
  id: string;
  tool: 'nixos-rebuild' | 'nixos-anywhere' | 'nixos-install' | string;
  argv: string[];
  /** Names of the relevant environment variables that were set (never values). */
  env: string[];
  /** NIX_SSHOPTS, shell-split. */
  sshOpts: string[];
  cwd: string;
  time: string;
  steps: { step: string; argv: string[] }[];
  exitCode: number | null;
}

export interface Generation {
  generation: number;
  storePath: string;
  current: boolean;
}

export interface SshResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

export interface Lab {
  prefix: string;
  dir: string;
  hosts: LabHost[];
  /**
   * `veth`: a veth pair per host, a /30 each, no bridge (the default). `bridge`: with `cache`,
   * `uplinkMbit` or `network: 'bridge'`, every host and the cache hang on one bridge in a /24, this
   * machine at .1, the hosts from .2 on, the cache at .254.
   */
  network: 'veth' | 'bridge';
  /** The binary cache, when started with `cache: true`. */
  cache: LabCache | null;
  /**
   * Bytes this machine has sent into the lab network since it started (headers included): the
   * bridge device's transmit counter, or the root-side veths' together. Never counts traffic
   * between the cache and the hosts.
   */
  uplinkBytes(): number;
  /** Sets (Mbit/s) or lifts (null) the cap on what this machine sends; bridge network only. */
  setUplink(mbit: number | null): Promise<void>;
  /** Round-trip time added to every ssh connection (0: none). */
  rttMs: number;
  /**
   * ssh options as Key=Value for a fleet manifest's `ssh.options` (no white space, which
   * NIX_SSHOPTS cannot carry): the ProxyCommand of `rttMs`, or none.
   */
  fleetSshOptions: string[];
  /** Connections that went through the delaying ProxyCommand, per host address, since the lab started. */
  rttConnections(): Record<string, number>;
  /** Sets the payload of the systems from the next build on (null: none); see {@link LabPayload}. */
  setPayload(payload: LabPayload | null): Promise<void>;
  /** The shared payload's store path (present in this machine's store), or null without a payload. */
  sharedPayload(): string | null;
  /** Private key of the client (authorised for root and deploy on every host). */
  clientKey: string;
  clientPublicKey: string;
  /** known_hosts with every host's key, keyed by address. */
  knownHosts: string;
  /** ssh config: `ssh -F <sshConfig> <host name or address>` works. */
  sshConfig: string;
  /** ssh options (argv) that reach the hosts with pinned keys; `env.NIX_SSHOPTS`-ready via sshOptionsString. */
  sshOptions: string[];
  sshOptionsString: string;
  flakeDir: string;
  /** The stand-ins (nixos-rebuild, nixos-anywhere, nixos-install). */
  binDir: string;
  /** PATH with the stand-ins first, NIX_CONFIG (flakes, no substituters), FLEET_LAB_LOG, FLEET_LAB_DIR. */
  env: Record<string, string>;
  logPath: string;
  host(name: string): LabHost;
  /** `<flakeDir>#nixosConfigurations."name".config.system.build.<attr>` */
  installable(name: string, attr?: 'toplevel' | 'diskoScript' | 'diskoScriptNoDeps'): string;
  /** Builds installables (from `installable()`) in one `nix build`; returns their out paths in the order given. */
  build(installables: string[]): Promise<string[]>;
  toplevels(names?: string[]): Promise<Record<string, string>>;
  stop(): Promise<void>;
  reboot(host: string): Promise<void>;
  cutLink(host: string): Promise<void>;
  restoreLink(host: string): Promise<void>;
  killSshd(host: string): Promise<void>;
  freeze(host: string): Promise<void>;
  thaw(host: string): Promise<void>;
  fillDisk(host: string): Promise<void>;
  freeDisk(host: string): Promise<void>;
  setRevision(n: number): void;
  /** Sets the flake's evaluation weight (`{ shared: 0, perHost: 0 }`: none). */
  setWeight(weight: EvalWeight): void;
  setVariant(host: string, variant: Variant): void;
  /** Sets the versioned packages of a host's system (`{}`: none, the toplevel it had without them). */
  setPackages(host: string, packages: Record<string, LabPackage>): void;
  /** Sets the specialisations of a host's system (`[]`: none, the toplevel it had without them). */
  setSpecialisations(host: string, names: string[]): void;
  activations(host: string): Activation[];
  toolLog(): ToolInvocation[];
  ssh(host: string, argv: string[], options?: { user?: string; input?: string; timeoutMs?: number }): Promise<SshResult>;
  waitForSsh(host: string, timeoutMs?: number): Promise<void>;
  currentSystem(host: string): string | null;
  bootedSystem(host: string): string | null;
  bootDefault(host: string): string | null;
  generations(host: string): Generation[];
  diskFiles(host: string): string[];
  bootId(host: string): string;
  /** The host key the host presents now (changes when a new system generated or received one). */
  currentHostPublicKey(host: string): string;
  /** Store paths present in the host's current store (installed: disk, bare: RAM). */
  storePaths(host: string): string[];
  /** Runs argv inside the host's namespaces (not over ssh). */
  exec(host: string, argv: string[]): Promise<SshResult>;
}

// ------------------------------------------------------------------------------------------------
// Constants and small helpers

const LAB_SRC = dirname(fileURLToPath(import.meta.url));
export const labBinDir = join(LAB_SRC, 'bin');
const HOST_SCRIPT = join(LAB_SRC, 'host', 'lab-host.sh');
const FLAKE_TEMPLATE = join(LAB_SRC, 'flake', 'flake.nix');
const CACHE_SERVER = join(LAB_SRC, 'host', 'cache-server.mjs');
/** The delaying ProxyCommand lives beside the repository (../shared/bench), read-only; built per lab. */
const DELAYCAT_SRC = join(LAB_SRC, '..', '..', '..', 'shared', 'bench', 'delaycat.c');
const CACHE_PORT = 8080;
const NETS_DIR = '/tmp/fleet-lab-nets';
const SUBNET_BASE = '10.231';
const DEPLOY_UID = 2931;
/** The lab user `admin`'s password, which its sudo asks for (lab-host.sh keeps only its hash). */
export const LAB_SUDO_PASSWORD = 'fleet-lab-sudo-password-3kTq';
const VARIANTS: Variant[] = ['good', 'breaks-ssh', 'units-fail', 'needs-reboot', 'fails', 'slow', 'eval-fails'];
export const NIX_FLAGS = ['--extra-experimental-features', 'nix-command flakes', '--option', 'substituters', ''];

interface HostRecord {
  name: string;
  index: number;
  netns: string;
  vethRoot: string;
  address: string;
  rootAddress: string;
  dir: string;
  state: 'bare' | 'installed';
  variant: Variant;
  packages?: Record<string, LabPackage>;
  specialisations?: string[];
}

interface LabRecord {
  prefix: string;
  dir: string;
  subnet: number | null;
  network?: 'veth' | 'bridge';
  ownerPid: number;
  keepOnExit: boolean;
  createdAt: string;
  anchorPid: number | null;
  hosts: HostRecord[];
  mounts: string[];
  netns: string[];
  links: string[];
}

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/**
 * A command through zx, with the lab's defaults: no stdin unless `input` is given, output captured
 * and quiet, a failure returned (not thrown), a timeout killing with SIGKILL.
 */
async function run(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  const out = await $({
    env: options.env ?? process.env,
    cwd: options.cwd,
    input: options.input,
    stdio: [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs,
    timeoutSignal: 'SIGKILL',
    nothrow: true,
    quiet: true,
  })`${cmd} ${args}`;
  return { exitCode: out.exitCode ?? 128, stdout: out.stdout, stderr: out.stderr, signal: out.signal };
}

/** {@link run}, throwing with the command and its output when it fails. */
async function must(cmd: string, args: string[], options: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const r = await run(cmd, args, options);
  if (r.exitCode !== 0) {
    throw new Error(`lab: \`${[cmd, ...args].join(' ')}\` failed (exit ${r.exitCode}):\n${(r.stderr || r.stdout).trim()}`);
  }
  return r;
}

/** A command through zx, synchronously (teardown runs from exit handlers, where nothing can be awaited). */
function runSync(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const out = $({ sync: true, nothrow: true, quiet: true, stdio: ['ignore', 'pipe', 'pipe'] })`${cmd} ${args}`;
  return { status: out.exitCode ?? 1, stdout: out.stdout, stderr: out.stderr };
}

function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nixSystem(): string {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  return `${arch}-linux`;
}

// ------------------------------------------------------------------------------------------------
// Prerequisites

const REQUIRED: { cmd: string; pkg: string; why: string }[] = [
  { cmd: 'ip', pkg: 'iproute2', why: 'network namespaces and veth links' },
  { cmd: 'unshare', pkg: 'util-linux', why: 'private mount namespaces' },
  { cmd: 'nsenter', pkg: 'util-linux', why: 'running commands inside a host' },
  { cmd: 'setsid', pkg: 'util-linux', why: 'detaching host processes' },
  { cmd: 'mount', pkg: 'mount', why: 'per-host /nix, /etc, /run, tmpfs disks' },
  { cmd: 'sshd', pkg: 'openssh-server', why: 'each host runs its own sshd' },
  { cmd: 'ssh', pkg: 'openssh-client', why: 'reaching the hosts' },
  { cmd: 'ssh-keygen', pkg: 'openssh-client', why: 'host and client keys' },
  { cmd: 'nix', pkg: 'nix-bin', why: 'building toplevels, nix copy' },
  { cmd: 'nix-env', pkg: 'nix-bin', why: 'system profiles and generations' },
  { cmd: 'nix-store', pkg: 'nix-bin', why: 'nix copy over ssh (nix-store --serve)' },
  { cmd: 'sudo', pkg: 'sudo', why: 'the non-root deploy user' },
  { cmd: 'doas', pkg: 'opendoas', why: 'a deploy user that escalates with doas' },
  { cmd: 'tar', pkg: 'tar', why: 'nixos-anywhere --extra-files' },
  { cmd: 'bash', pkg: 'bash', why: 'the host life-cycle script' },
];

function findCommand(cmd: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Explains exactly what is missing for the lab (root, commands, kernel features); empty when all is there.
 */
export function checkLabPrerequisites(): { ok: boolean; problems: string[]; explanation: string } {
  const problems: string[] = [];
  const pkgs = new Set<string>();
  if (process.platform !== 'linux') problems.push(`the lab needs Linux (this is ${process.platform})`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    problems.push('the lab must run as root (network namespaces, mounts); run the tests with sudo or in a root container');
  }
  for (const r of REQUIRED) {
    if (!findCommand(r.cmd)) {
      problems.push(`\`${r.cmd}\` not found (${r.why}); Debian package ${r.pkg}`);
      pkgs.add(r.pkg);
    }
  }
  const fs = readOr('/proc/filesystems', '');
  if (fs && !/\boverlay\b/.test(fs) && runSync('modprobe', ['overlay']).status !== 0) {
    problems.push('the kernel has no overlay filesystem (needed for per-host /etc); `modprobe overlay`');
  }
  if (fs && !/\btmpfs\b/.test(fs)) problems.push('the kernel has no tmpfs (needed for the fake disks)');
  let explanation = '';
  if (problems.length > 0) {
    explanation = `The fleet lab cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
    if (pkgs.size > 0) {
      explanation += `\nFix: sudo apt-get update && sudo apt-get install -y ${[...pkgs].sort().join(' ')}`;
      explanation += `\n  (or run: npx tsx scripts/install-lab-deps.ts)`;
    }
  }
  return { ok: problems.length === 0, problems, explanation };
}

// ------------------------------------------------------------------------------------------------
// Process-exit cleanup (best effort)

const liveLabs = new Set<string>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const dir of liveLabs) teardownSync(dir);
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      for (const dir of liveLabs) teardownSync(dir);
      liveLabs.clear();
      process.removeListener(sig, handler);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

// ------------------------------------------------------------------------------------------------
// State file, subnet claims, teardown

function recordPath(dir: string): string {
  return join(dir, 'lab.json');
}

function saveRecord(rec: LabRecord): void {
  writeAtomic(recordPath(rec.dir), JSON.stringify(rec, null, 2) + '\n');
}

/** Reads the state of a lab directory (for `lab down` from another process). */
export function readLabRecord(dir: string): LabRecord | null {
  try {
    return JSON.parse(readFileSync(recordPath(dir), 'utf8')) as LabRecord;
  } catch {
    return null;
  }
}

function usedSubnets(): Set<number> {
  const used = new Set<number>();
  const out = runSync('ip', ['-4', '-o', 'addr', 'show']).stdout + runSync('ip', ['-4', 'route', 'show', 'table', 'all']).stdout;
  const re = new RegExp(`\\b${SUBNET_BASE.replace('.', '\\.')}\\.(\\d+)\\.`, 'g');
  for (const m of out.matchAll(re)) used.add(Number(m[1]));
  return used;
}

function claimSubnet(dir: string): number {
  mkdirSync(NETS_DIR, { recursive: true });
  const used = usedSubnets();
  for (let attempt = 0; attempt < 200; attempt++) {
    const n = randomInt(0, 256);
    if (used.has(n)) continue;
    const claim = join(NETS_DIR, String(n));
    try {
      mkdirSync(claim);
    } catch {
      // Claimed already; reclaim only when its lab is gone.
      const owner = readOr(join(claim, 'owner'), '').trim();
      if (owner && existsSync(owner)) continue;
      rmSync(claim, { recursive: true, force: true });
      try {
        mkdirSync(claim);
      } catch {
        continue;
      }
    }
    writeFileSync(join(claim, 'owner'), dir + '\n');
    return n;
  }
  throw new Error(`lab: no free subnet under ${SUBNET_BASE}.0.0/16`);
}

function killPid(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function netnsPids(netns: string): number[] {
  const r = runSync('ip', ['netns', 'pids', netns]);
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/** Removes everything a lab created: processes, namespaces, links, mounts, claims, directories. */
export function teardownSync(dir: string): void {
  const rec = readLabRecord(dir);
  liveLabs.delete(dir);
  if (rec) {
    for (let round = 0; round < 20; round++) {
      let left = 0;
      for (const ns of rec.netns) {
        const pids = netnsPids(ns);
        left += pids.length;
        for (const pid of pids) killPid(pid);
      }
      if (left === 0) break;
      runSync('sleep', ['0.05']);
    }
    if (rec.anchorPid) {
      const cmdline = readOr(`/proc/${rec.anchorPid}/cmdline`, '');
      if (cmdline.includes('fleet-lab-anchor')) killPid(rec.anchorPid);
    }
    for (const ns of rec.netns) runSync('ip', ['netns', 'del', ns]);
    for (const link of rec.links) {
      if (existsSync(`/sys/class/net/${link}`)) runSync('ip', ['link', 'del', link]);
    }
    for (const m of [...rec.mounts].reverse()) {
      if (runSync('umount', [m]).status !== 0) runSync('umount', ['-l', m]);
    }
    if (rec.subnet !== null) rmSync(join(NETS_DIR, String(rec.subnet)), { recursive: true, force: true });
  }
  // Never delete a directory that still has something mounted below it.
  const mounts = readOr('/proc/self/mountinfo', '');
  for (const line of mounts.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && (mp === dir || mp.startsWith(dir + '/'))) runSync('umount', ['-l', mp]);
  }
  if (dir.startsWith('/tmp/fleet-lab-')) rmSync(dir, { recursive: true, force: true });
}

/** Stops a lab (object or directory) from any process. */
export async function stopLab(lab: Lab | string): Promise<void> {
  teardownSync(typeof lab === 'string' ? lab : lab.dir);
}

/** Directories of all labs on this machine (running or left over). */
export function listLabDirs(): string[] {
  return readdirSync('/tmp')
    .filter((n) => n.startsWith('fleet-lab-') && n !== 'fleet-lab-nets' && n !== 'fleet-lab-cli.json')
    .map((n) => join('/tmp', n))
    .filter((d) => existsSync(recordPath(d)));
}

// ------------------------------------------------------------------------------------------------
// The flake

/** The shared payload as the flake sees it: a fixed-output path whose file the lab made. */
interface PreparedPayload {
  name: string;
  sha256: string;
  source: string;
  storePath: string;
  hostKiB: number;
}

function labNix(system: string, revision: number, slowSeconds: number, hosts: HostRecord[], weight: EvalWeight, payload: PreparedPayload | null = null): string {
  const packages = (h: HostRecord) => {
    const entries = Object.entries(h.packages ?? {});
    if (entries.length === 0) return '';
    const each = entries.map(([name, p]) => `${JSON.stringify(name)} = { version = ${JSON.stringify(p.version)}; kib = ${Math.trunc(p.kib ?? 1)}; };`);
    return ` packages = { ${each.join(' ')} };`;
  };
  const specialisations = (h: HostRecord) =>
    h.specialisations && h.specialisations.length > 0 ? ` specialisations = [ ${h.specialisations.map((n) => JSON.stringify(n)).join(' ')} ];` : '';
  const hostLines = hosts.map((h) => `    ${JSON.stringify(h.name)} = { variant = ${JSON.stringify(h.variant)};${packages(h)}${specialisations(h)} };`);
  return [
    '# Generated by test/lab/lab.ts: the knobs of the lab flake.',
    '{',
    `  system = ${JSON.stringify(system)};`,
    `  revision = ${revision};`,
    `  slowSeconds = ${slowSeconds};`,
    `  weight = { shared = ${Math.trunc(weight.shared)}; perHost = ${Math.trunc(weight.perHost)}; };`,
    ...(payload
      ? [`  payload = { name = ${JSON.stringify(payload.name)}; sha256 = ${JSON.stringify(payload.sha256)}; source = ${JSON.stringify(payload.source)}; hostKiB = ${payload.hostKiB}; };`]
      : []),
    '  hosts = {',
    ...hostLines,
    '  };',
    '}',
    '',
  ].join('\n');
}

/**
 * Makes the shared payload's file (AES-256-CTR keystream of the seed: incompressible, the same
 * bytes for the same seed and size) unless it exists, and adds it to this machine's store with
 * `nix-store --add-fixed`, the path the flake's fixed-output derivation names.
 */
async function preparePayload(dir: string, payload: LabPayload, nixEnv: NodeJS.ProcessEnv): Promise<PreparedPayload> {
  const seed = payload.seed ?? '1';
  if (!/^[a-z0-9]{1,16}$/.test(seed)) throw new Error(`lab: payload seed must be 1-16 characters of [a-z0-9] (got ${JSON.stringify(seed)})`);
  if (!Number.isInteger(payload.sharedMiB) || payload.sharedMiB < 1 || payload.sharedMiB > 1024) throw new Error(`lab: payload sharedMiB must be a whole number from 1 to 1024`);
  if (!Number.isInteger(payload.hostKiB) || payload.hostKiB < 1 || payload.hostKiB > 1 << 20) throw new Error(`lab: payload hostKiB must be a whole number from 1 to 1048576`);
  const name = `lab-shared-payload-${seed}-${payload.sharedMiB}m`;
  const payloadDir = join(dir, 'payload');
  mkdirSync(payloadDir, { recursive: true });
  const source = join(payloadDir, name);
  const hash = createHash('sha256');
  if (existsSync(source)) {
    hash.update(readFileSync(source));
  } else {
    const key = createHash('sha256').update(`fleet-lab-payload:${seed}`).digest();
    const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
    const zeros = Buffer.alloc(1 << 20);
    const fd = openSync(`${source}.tmp`, 'w');
    try {
      for (let i = 0; i < payload.sharedMiB; i++) {
        const chunk = cipher.update(zeros);
        hash.update(chunk);
        writeSync(fd, chunk);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(`${source}.tmp`, source);
  }
  const sha256 = hash.digest('hex');
  const added = await must('nix-store', ['--add-fixed', 'sha256', source], { env: nixEnv });
  return { name, sha256, source, storePath: added.stdout.trim(), hostKiB: payload.hostKiB };
}

const FLAKE_LOCK = JSON.stringify({ nodes: { root: {} }, root: 'root', version: 7 }, null, 2) + '\n';

// ------------------------------------------------------------------------------------------------
// startLab

const NAME_RE = /^[a-z][a-z0-9-]{0,30}$/;

function labNetwork(options: LabOptions): 'veth' | 'bridge' {
  return options.network ?? (options.cache || options.uplinkMbit !== undefined ? 'bridge' : 'veth');
}

/** Starts a lab with the given hosts. Throws (with the explanation) when prerequisites are missing. */
export async function startLab(options: LabOptions): Promise<Lab> {
  const pre = checkLabPrerequisites();
  if (!pre.ok) throw new Error(pre.explanation);
  if (options.hosts.length === 0) throw new Error('lab: no hosts');
  if (options.network === 'veth' && (options.cache || options.uplinkMbit !== undefined)) {
    throw new Error("lab: cache and uplinkMbit need network: 'bridge'");
  }
  const maxHosts = labNetwork(options) === 'bridge' ? 250 : 63;
  if (options.hosts.length > maxHosts) {
    throw new Error(`lab: at most ${maxHosts} hosts per lab${maxHosts === 63 ? " on the veth network (network: 'bridge' takes up to 250)" : ''}`);
  }
  const names = new Set<string>();
  for (const h of options.hosts) {
    if (!NAME_RE.test(h.name)) throw new Error(`lab: invalid host name ${JSON.stringify(h.name)} (want [a-z][a-z0-9-]*)`);
    if (names.has(h.name)) throw new Error(`lab: duplicate host ${h.name}`);
    if (h.variant && !VARIANTS.includes(h.variant)) throw new Error(`lab: unknown variant ${h.variant}`);
    names.add(h.name);
  }
  if (options.prefix !== undefined && !/^[a-z0-9]{1,6}$/.test(options.prefix)) {
    throw new Error('lab: prefix must be 1-6 characters of [a-z0-9]');
  }
  if (options.uplinkMbit !== undefined && !(options.uplinkMbit > 0 && options.uplinkMbit <= 100_000)) {
    throw new Error(`lab: uplinkMbit must be more than 0 and at most 100000 (got ${options.uplinkMbit})`);
  }
  if (options.rttMs !== undefined && !(Number.isInteger(options.rttMs) && options.rttMs >= 0 && options.rttMs <= 10_000)) {
    throw new Error(`lab: rttMs must be a whole number from 0 to 10000 (got ${options.rttMs})`);
  }
  if (options.rttMs && !existsSync(DELAYCAT_SRC)) {
    throw new Error(`lab: rttMs needs ${DELAYCAT_SRC} (the delaying ssh ProxyCommand, beside the repository), which is missing`);
  }

  // A unique prefix: the lab directory is created exclusively.
  let prefix = options.prefix ?? '';
  let dir = '';
  for (let attempt = 0; ; attempt++) {
    if (!options.prefix) prefix = randomBytes(3).toString('hex').slice(0, 5);
    dir = `/tmp/fleet-lab-${prefix}`;
    try {
      mkdirSync(dir, { mode: 0o755 });
      break;
    } catch (err) {
      if (options.prefix || attempt > 20) throw new Error(`lab: ${dir} exists (another lab with prefix ${prefix}?): ${String(err)}`);
    }
  }

  const rec: LabRecord = {
    prefix,
    dir,
    subnet: null,
    ownerPid: process.pid,
    keepOnExit: options.keepOnExit ?? false,
    createdAt: new Date().toISOString(),
    anchorPid: null,
    hosts: [],
    mounts: [],
    netns: [],
    links: [],
  };
  saveRecord(rec);
  if (!rec.keepOnExit) {
    liveLabs.add(dir);
    installExitHandlers();
  }

  try {
    return await buildLab(rec, options);
  } catch (err) {
    teardownSync(dir);
    throw err;
  }
}

async function buildLab(rec: LabRecord, options: LabOptions): Promise<Lab> {
  const { dir, prefix } = rec;
  rec.subnet = claimSubnet(dir);
  const network = labNetwork(options);
  rec.network = network;
  saveRecord(rec);

  // The anchor: a process in this machine's namespaces through which a host's `reboot` escapes.
  // Spawned directly, not through zx: it outlives this process, detached, under a name (argv0) teardown finds.
  const anchor = spawn('sleep', ['infinity'], { argv0: `fleet-lab-anchor-${prefix}`, detached: true, stdio: 'ignore' });
  anchor.unref();
  rec.anchorPid = anchor.pid ?? null;
  saveRecord(rec);

  const clientDir = join(dir, 'client');
  mkdirSync(clientDir);
  const clientKey = join(clientDir, 'id_ed25519');
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `fleet-lab-${prefix}`, '-f', clientKey]);
  const clientPublicKey = readFileSync(`${clientKey}.pub`, 'utf8').trim();

  const flakeDir = join(dir, 'flake');
  mkdirSync(flakeDir);
  copyFileSync(FLAKE_TEMPLATE, join(flakeDir, 'flake.nix'));
  writeFileSync(join(flakeDir, 'flake.lock'), FLAKE_LOCK);
  let revision = options.revision ?? 1;
  const slowSeconds = options.slowSeconds ?? 5;
  const system = nixSystem();

  rec.hosts = options.hosts.map((h, index) => ({
    name: h.name,
    index,
    netns: `fleet-${prefix}-${h.name}`,
    vethRoot: `fl-${prefix}-${index}`,
    rootAddress: `${SUBNET_BASE}.${rec.subnet}.${network === 'bridge' ? 1 : index * 4 + 1}`,
    // On the bridge, one /24 for all: .1 this machine, .2 onwards the hosts, .254 the cache.
    address: `${SUBNET_BASE}.${rec.subnet}.${network === 'bridge' ? index + 2 : index * 4 + 2}`,
    dir: join(dir, 'hosts', h.name),
    state: h.state,
    variant: h.variant ?? 'good',
    ...(h.packages ? { packages: h.packages } : {}),
    ...(h.specialisations ? { specialisations: [...h.specialisations] } : {}),
  }));
  saveRecord(rec);
  let weight: EvalWeight = options.weight ?? { shared: 0, perHost: 0 };
  let payload: PreparedPayload | null = null;
  const writeFlake = () => writeAtomic(join(flakeDir, 'lab.nix'), labNix(system, revision, slowSeconds, rec.hosts, weight, payload));
  writeFlake();

  const logPath = join(dir, 'tool.log');
  writeFileSync(logPath, '');
  // No build users: Debian's nix-bin creates no nixbld group, and the lab's derivations are
  // /bin/sh scripts that a sandbox (which build users switch on) could not run.
  const nixConfig = 'experimental-features = nix-command flakes\nsubstituters =\nbuild-users-group =\nsandbox = false\n';
  const env: Record<string, string> = {
    PATH: `${labBinDir}:${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`,
    NIX_CONFIG: nixConfig,
    FLEET_LAB_LOG: logPath,
    FLEET_LAB_DIR: dir,
    // fleet's cache of local tool answers (nix --version), the lab's own.
    XDG_CACHE_HOME: join(dir, 'cache'),
  };
  const nixEnv = { ...process.env, NIX_CONFIG: nixConfig };
  if (options.payload) payload = await preparePayload(dir, options.payload, nixEnv);

  // The network's shape (issue 21): a bridge when a cache or an uplink cap is asked for, the
  // cache host on it, the delaying ProxyCommand.
  const bridge = `fb-${prefix}`;
  const bridgeAddress = `${SUBNET_BASE}.${rec.subnet}.1`;
  if (network === 'bridge') {
    await must('ip', ['link', 'add', bridge, 'type', 'bridge', 'forward_delay', '0']);
    rec.links.push(bridge);
    saveRecord(rec);
    await must('ip', ['addr', 'add', `${bridgeAddress}/24`, 'dev', bridge]);
    await must('ip', ['link', 'set', bridge, 'up']);
  }
  const setUplink = async (mbit: number | null) => {
    if (network !== 'bridge') throw new Error('lab: an uplink cap needs the bridge network (start the lab with uplinkMbit or cache)');
    if (mbit === null) {
      await run('tc', ['qdisc', 'del', 'dev', bridge, 'root']);
      return;
    }
    if (!(mbit > 0)) throw new Error(`lab: uplink must be more than 0 Mbit/s (got ${mbit})`);
    // burst: 10 ms at the rate, at least 64 KiB (one GSO packet); the queue holds 100 ms more.
    const burst = Math.max(64 * 1024, Math.ceil((mbit * 1e6) / 8 / 100));
    await must('tc', ['qdisc', 'replace', 'dev', bridge, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'latency', '100ms']);
  };
  if (options.uplinkMbit !== undefined) await setUplink(options.uplinkMbit);
  const cache = options.cache ? await startCache(rec, bridge, nixEnv) : null;

  const rttMs = options.rttMs ?? 0;
  const rttDir = join(dir, 'rtt');
  if (rttMs > 0) {
    mkdirSync(rttDir);
    const delaycat = join(dir, 'delaycat');
    await must('gcc', ['-O2', '-o', delaycat, DELAYCAT_SRC]);
    // One ProxyCommand per host address, so that ssh's option carries no white space (NIX_SSHOPTS
    // is split at every space by Nix 2.8 and fleet refuses such options): `ProxyCommand=<rtt>/%h`.
    // Each connection leaves a line in connections.log, the proof that it went through.
    for (const h of rec.hosts) {
      writeFileSync(
        join(rttDir, h.address),
        [
          '#!/bin/sh',
          `# ssh ProxyCommand of fleet lab ${prefix}: ${rttMs} ms more round-trip time to ${h.name} (${h.address}:22)`,
          `echo ${h.address} >> ${join(rttDir, 'connections.log')}`,
          `exec ${delaycat} ${h.address} 22 ${Math.round(rttMs / 2)}`,
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
    }
    writeFileSync(join(rttDir, 'connections.log'), '');
  }
  const fleetSshOptions = rttMs > 0 ? [`ProxyCommand=${rttDir}/%h`] : [];

  const installable = (name: string, attr = 'toplevel') =>
    `${flakeDir}#nixosConfigurations.${JSON.stringify(name)}.config.system.build.${attr}`;
  const build = async (installables: string[]): Promise<string[]> => {
    if (installables.length === 0) return [];
    // `nix build --json` lists its results in an order of its own (Nix 2.8 sorts them by store
    // path), so the out paths come from one evaluation, in the order asked, and the build makes them.
    const wanted = installables.map((i) => {
      const match = /#nixosConfigurations\.("(?:[^"\\]|\\.)*")\.config\.system\.build\.(\w+)$/.exec(i);
      if (!match || !i.startsWith(`${flakeDir}#`)) throw new Error(`lab.build: not a lab installable: ${i}`);
      return { name: JSON.parse(match[1]!) as string, attr: match[2]! };
    });
    const apply = `cs: map (w: cs.\${w.name}.config.system.build.\${w.attr}.outPath) (builtins.fromJSON ${JSON.stringify(JSON.stringify(wanted))})`;
    const evaluated = await must('nix', [...NIX_FLAGS, 'eval', '--json', `${flakeDir}#nixosConfigurations`, '--apply', apply], { env: nixEnv });
    const paths = JSON.parse(evaluated.stdout) as string[];
    const built = await must('nix', [...NIX_FLAGS, 'build', '--json', '--no-link', ...installables], { env: nixEnv });
    const outs = new Set((JSON.parse(built.stdout) as { outputs: { out: string } }[]).map((o) => o.outputs.out));
    const missing = paths.filter((p) => !outs.has(p));
    if (missing.length > 0) throw new Error(`lab.build: nix build made no ${missing.join(', ')}`);
    return paths;
  };
  const toplevels = async (names?: string[]): Promise<Record<string, string>> => {
    const list = names ?? rec.hosts.map((h) => h.name);
    const paths = await build(list.map((n) => installable(n)));
    return Object.fromEntries(list.map((n, i) => [n, paths[i]!]));
  };

  // Installed hosts start on a first generation that worked: revision 0 with every variant `good`;
  // the flake then moves to the requested revision and variants (what the next deploy brings).
  const installed = rec.hosts.filter((h) => h.state === 'installed').map((h) => h.name);
  let firstToplevels: Record<string, string> = {};
  if (installed.length > 0) {
    writeAtomic(join(flakeDir, 'lab.nix'), labNix(system, 0, slowSeconds, rec.hosts.map((h) => ({ ...h, variant: 'good' })), weight));
    firstToplevels = await toplevels(installed);
    writeFlake();
  }

  // Hosts come up in parallel.
  const hostKeys = await Promise.all(
    rec.hosts.map((h) =>
      createHost(rec, h, {
        clientPublicKey,
        // Room for a few shared payloads (each deploy of a new seed adds one).
        diskMiB: options.diskMiB ?? (options.payload ? 64 + 4 * options.payload.sharedMiB : 64),
        ramMiB: options.ramMiB ?? 64,
        toplevel: firstToplevels[h.name] ?? null,
        nixEnv,
        bridge: network === 'bridge' ? bridge : null,
        cache,
      }),
    ),
  );

  const knownHosts = join(clientDir, 'known_hosts');
  writeFileSync(knownHosts, rec.hosts.map((h, i) => `${h.address} ${hostKeys[i]}\n`).join(''));
  const sshOptions = [
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'IdentitiesOnly=yes',
    '-i', clientKey,
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=5',
    '-o', 'LogLevel=ERROR',
    ...fleetSshOptions.flatMap((o) => ['-o', o]),
  ];
  const sshConfig = join(clientDir, 'ssh_config');
  writeFileSync(
    sshConfig,
    [
      `# ssh config of fleet lab ${prefix}: ssh -F ${sshConfig} <host>`,
      ...rec.hosts.flatMap((h) => [`Host ${h.name}`, `  HostName ${h.address}`]),
      `Host ${rec.hosts.map((h) => h.address).join(' ')} ${rec.hosts.map((h) => h.name).join(' ')}`,
      '  User root',
      `  IdentityFile ${clientKey}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHosts}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '  ConnectTimeout 5',
      '  ControlMaster no',
      '  ControlPath none',
      '  LogLevel ERROR',
      ...fleetSshOptions.map((o) => `  ${o.replace('=', ' ')}`),
      '',
    ].join('\n'),
  );

  const hosts: LabHost[] = rec.hosts.map((h, i) => ({
    name: h.name,
    address: h.address,
    port: 22,
    hostPublicKey: hostKeys[i]!,
    netns: h.netns,
    state: h.state,
    dirs: { root: h.dir, disk: join(h.dir, 'disk'), ram: join(h.dir, 'ram'), run: join(h.dir, 'run'), lab: join(h.dir, 'lab') },
  }));

  const byName = (name: string): HostRecord => {
    const h = rec.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`lab: no host ${name}`);
    return h;
  };
  const mode = (h: HostRecord) => readOr(join(h.dir, 'lab', 'mode'), 'installer').trim();
  const liveRoot = (h: HostRecord) => join(h.dir, mode(h) === 'installed' ? 'disk' : 'ram');
  const initPid = (h: HostRecord): number => {
    const pid = Number(readOr(join(h.dir, 'lab', 'init.pid'), '0').trim());
    if (!pid) throw new Error(`lab: host ${h.name} is not running`);
    return pid;
  };
  const hostPids = (h: HostRecord): number[] => {
    const ns = readOr(join(h.dir, 'lab', 'mntns'), '').trim();
    if (!ns) return [];
    const pids: number[] = [];
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      if (readlinkOrNull(`/proc/${p}/ns/mnt`) === ns) pids.push(Number(p));
    }
    return pids;
  };
  const sshdPids = (h: HostRecord, listenerOnly: boolean): number[] => {
    const listener = Number(readOr(join(h.dir, 'run', 'sshd.pid'), '0').trim());
    if (listenerOnly) return listener ? [listener] : [];
    return hostPids(h).filter((pid) => {
      const cmd = readOr(`/proc/${pid}/cmdline`, '');
      return cmd.startsWith('sshd') || cmd.startsWith('/usr/sbin/sshd');
    });
  };

  const sshRun = (name: string, argv: string[], opts: { user?: string; input?: string; timeoutMs?: number } = {}) => {
    const h = byName(name);
    return run(
      'ssh',
      [...sshOptions, '-o', 'ControlMaster=no', '-o', 'ControlPath=none', `${opts.user ?? 'root'}@${h.address}`, '--', argv.map(quote).join(' ')],
      { input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 },
    );
  };

  const waitForSsh = async (name: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: RunResult | null = null;
    while (Date.now() < deadline) {
      last = await sshRun(name, ['true'], { timeoutMs: 10_000 });
      if (last.exitCode === 0) return;
      await sleep(200);
    }
    throw new Error(`lab: ${name} not reachable over ssh within ${timeoutMs} ms: ${last?.stderr.trim()}`);
  };

  const lab: Lab = {
    prefix,
    dir,
    hosts,
    network,
    cache,
    uplinkBytes: () => {
      const devices = network === 'bridge' ? [bridge] : rec.hosts.map((h) => h.vethRoot);
      return devices.reduce((sum, d) => sum + Number(readOr(`/sys/class/net/${d}/statistics/tx_bytes`, '0').trim()), 0);
    },
    setUplink,
    rttMs,
    fleetSshOptions,
    rttConnections: () => {
      const counts: Record<string, number> = {};
      for (const a of readOr(join(rttDir, 'connections.log'), '').split('\n').filter(Boolean)) counts[a] = (counts[a] ?? 0) + 1;
      return counts;
    },
    setPayload: async (p) => {
      payload = p ? await preparePayload(dir, p, nixEnv) : null;
      writeFlake();
    },
    sharedPayload: () => payload?.storePath ?? null,
    clientKey,
    clientPublicKey,
    knownHosts,
    sshConfig,
    sshOptions,
    sshOptionsString: sshOptions.join(' '),
    flakeDir,
    binDir: labBinDir,
    env,
    logPath,
    host: (name) => {
      const h = hosts.find((x) => x.name === name);
      if (!h) throw new Error(`lab: no host ${name}`);
      return h;
    },
    installable,
    build,
    toplevels,
    stop: async () => teardownSync(dir),
    reboot: async (name) => {
      const h = byName(name);
      await must(join(h.dir, 'lab', 'bin', 'lab-host.sh'), ['reboot', h.dir], { timeoutMs: 30_000 });
    },
    cutLink: async (name) => {
      await must('ip', ['-n', byName(name).netns, 'link', 'set', 'eth0', 'down']);
    },
    restoreLink: async (name) => {
      const h = byName(name);
      await must('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up']);
    },
    killSshd: async (name) => {
      for (const pid of sshdPids(byName(name), true)) killPid(pid, 'SIGKILL');
    },
    freeze: async (name) => {
      for (const pid of sshdPids(byName(name), false)) killPid(pid, 'SIGSTOP');
    },
    thaw: async (name) => {
      for (const pid of sshdPids(byName(name), false)) killPid(pid, 'SIGCONT');
    },
    fillDisk: async (name) => {
      const file = join(liveRoot(byName(name)), '.lab-filler');
      const fd = openSync(file, 'a');
      const chunk = Buffer.alloc(1 << 20);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
      // Fill the last partial MiB too.
      const fd2 = openSync(file, 'a');
      try {
        for (;;) writeSync(fd2, Buffer.alloc(4096));
      } catch {
        // full
      } finally {
        closeSync(fd2);
      }
    },
    freeDisk: async (name) => {
      rmSync(join(liveRoot(byName(name)), '.lab-filler'), { force: true });
    },
    setRevision: (n) => {
      revision = n;
      writeFlake();
    },
    setWeight: (w) => {
      if (![w.shared, w.perHost].every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`lab: weight must be whole numbers ≥ 0 (got ${JSON.stringify(w)})`);
      weight = { ...w };
      writeFlake();
    },
    setVariant: (name, variant) => {
      if (!VARIANTS.includes(variant)) throw new Error(`lab: unknown variant ${variant}`);
      byName(name).variant = variant;
      saveRecord(rec);
      writeFlake();
    },
    setPackages: (name, packages) => {
      for (const [pname, p] of Object.entries(packages)) {
        if (!/^[a-z][a-z0-9-]*$/.test(pname) || !/^[0-9][A-Za-z0-9.]*$/.test(p.version)) throw new Error(`lab: bad package ${pname}-${p.version}`);
      }
      byName(name).packages = { ...packages };
      saveRecord(rec);
      writeFlake();
    },
    setSpecialisations: (name, names) => {
      for (const n of names) if (!/^[a-z][a-z0-9-]*$/.test(n)) throw new Error(`lab: bad specialisation name ${n}`);
      byName(name).specialisations = [...names];
      saveRecord(rec);
      writeFlake();
    },
    activations: (name) =>
      readOr(join(byName(name).dir, 'lab', 'activations.log'), '')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Activation),
    toolLog: () => parseToolLog(readOr(logPath, '')),
    ssh: sshRun,
    waitForSsh,
    currentSystem: (name) => readlinkOrNull(join(byName(name).dir, 'run', 'current-system')),
    bootedSystem: (name) => readlinkOrNull(join(byName(name).dir, 'run', 'booted-system')),
    bootDefault: (name) => readlinkOrNull(join(byName(name).dir, 'disk', 'boot', 'default')),
    generations: (name) => {
      const profiles = join(liveRoot(byName(name)), 'nix', 'var', 'nix', 'profiles');
      const current = readlinkOrNull(join(profiles, 'system'));
      let entries: string[] = [];
      try {
        entries = readdirSync(profiles);
      } catch {
        return [];
      }
      return entries
        .map((e) => /^system-(\d+)-link$/.exec(e))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({
          generation: Number(m[1]),
          storePath: readlinkOrNull(join(profiles, m[0])) ?? '',
          current: current === m[0],
        }))
        .sort((a, b) => a.generation - b.generation);
    },
    diskFiles: (name) => {
      const disk = join(byName(name).dir, 'disk');
      const out: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          const rel = relative(disk, p);
          if (rel === 'nix' || rel === '.etc-work' || rel === '.lab-filler') continue;
          if (e.isDirectory()) walk(p);
          else if (!e.isCharacterDevice()) out.push(rel); // overlay whiteouts are not files
        }
      };
      walk(disk);
      return out.sort();
    },
    bootId: (name) => readOr(join(byName(name).dir, 'lab', 'boot_id'), '').trim(),
    currentHostPublicKey: (name) => {
      const pub = readOr(join(liveRoot(byName(name)), 'etc', 'ssh', 'ssh_host_ed25519_key.pub'), '');
      return pub.trim().split(/\s+/).slice(0, 2).join(' ');
    },
    storePaths: (name) => {
      try {
        return readdirSync(join(liveRoot(byName(name)), 'nix', 'store'))
          .filter((e) => !e.startsWith('.'))
          .map((e) => `/nix/store/${e}`)
          .sort();
      } catch {
        return [];
      }
    },
    exec: async (name, argv) => {
      const pid = initPid(byName(name));
      return run('nsenter', ['-t', String(pid), '-m', '-n', '-u', '--', ...argv]);
    },
  };

  // At most 8 first connections at once, each with more time in a large lab: dozens of key
  // exchanges at once on a busy 2-core machine each missed their 10 s and started over.
  const waiting = [...hosts];
  await Promise.all(
    Array.from({ length: Math.min(8, waiting.length) }, async () => {
      for (let h = waiting.shift(); h; h = waiting.shift()) await waitForSsh(h.name, Math.max(20_000, 1000 * hosts.length));
    }),
  );
  return lab;
}

async function createHost(
  rec: LabRecord,
  h: HostRecord,
  o: {
    clientPublicKey: string;
    diskMiB: number;
    ramMiB: number;
    toplevel: string | null;
    nixEnv: NodeJS.ProcessEnv;
    /** The lab bridge the host hangs on, or null for a point-to-point veth pair. */
    bridge: string | null;
    /** The lab cache the host substitutes from, or null: no substituters. */
    cache: LabCache | null;
  },
): Promise<string> {
  const H = h.dir;
  for (const d of ['disk', 'ram', 'run', 'mnt', 'tmp', 'newroot', 'lab/bin/_lib', 'lab/keys', 'lab/disk']) {
    mkdirSync(join(H, d), { recursive: true });
  }
  // /run is a tmpfs, as on NixOS: what lands in /run/keys lives in RAM and is gone after a reboot
  // (lab-host.sh also empties it at every boot).
  for (const [d, size] of [
    ['disk', o.diskMiB],
    ['ram', o.ramMiB],
    ['run', 16],
  ] as const) {
    await must('mount', ['-t', 'tmpfs', '-o', `size=${size}m,mode=0755`, `fleet-lab-${d}`, join(H, d)]);
    rec.mounts.push(join(H, d));
    saveRecord(rec);
  }

  // Host-side scripts are copied: the repository may not be visible inside the host.
  const bin = join(H, 'lab', 'bin');
  copyFileSync(HOST_SCRIPT, join(bin, 'lab-host.sh'));
  chmodSync(join(bin, 'lab-host.sh'), 0o755);
  symlinkSync('lab-host.sh', join(bin, 'reboot'));
  copyFileSync(join(labBinDir, 'nixos-install'), join(bin, 'nixos-install'));
  chmodSync(join(bin, 'nixos-install'), 0o755);
  copyFileSync(join(labBinDir, '_lib', 'common.mjs'), join(bin, '_lib', 'common.mjs'));

  // Host key (pinned in known_hosts) and the client's key for root and deploy.
  const keyFile = join(H, 'lab', 'keys', 'ssh_host_ed25519_key');
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${h.name}`, '-f', keyFile]);
  const hostKey = readFileSync(`${keyFile}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const root = join(H, h.state === 'installed' ? 'disk' : 'ram');
  mkdirSync(join(root, 'etc', 'ssh'), { recursive: true });
  copyFileSync(keyFile, join(root, 'etc', 'ssh', 'ssh_host_ed25519_key'));
  chmodSync(join(root, 'etc', 'ssh', 'ssh_host_ed25519_key'), 0o600);
  copyFileSync(`${keyFile}.pub`, join(root, 'etc', 'ssh', 'ssh_host_ed25519_key.pub'));
  writeFileSync(join(H, 'lab', 'authorized_keys'), o.clientPublicKey + '\n');
  writeFileSync(
    join(H, 'lab', 'installer_sshd_config'),
    [
      '# sshd_config of the lab rescue system (bare host)',
      'Port 22',
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'PidFile /run/sshd.pid',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u',
      'SetEnv PATH=/run/lab/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'MaxStartups 100:30:200',
      'MaxSessions 100',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  const hostEnv = [
    `LAB_PREFIX=${rec.prefix}`,
    `LAB_HOST=${h.name}`,
    `LAB_HOSTDIR=${H}`,
    `LAB_NETNS=${h.netns}`,
    `LAB_ADDRESS=${h.address}`,
    `LAB_ANCHOR_PID=${rec.anchorPid}`,
    `LAB_DEPLOY_UID=${DEPLOY_UID}`,
    ...(o.cache ? [`LAB_SUBSTITUTERS=${o.cache.url}`, `LAB_TRUSTED_PUBLIC_KEYS=${o.cache.publicKey}`] : []),
    '',
  ].join('\n');
  writeFileSync(join(H, 'host.env'), hostEnv);
  writeFileSync(join(H, 'lab', 'host.env'), hostEnv);
  for (const f of ['activations.log', 'boots.log', 'console.log']) appendFileSync(join(H, 'lab', f), '');

  // Something on the disk that a wipe would destroy.
  mkdirSync(join(H, 'disk', 'data'), { recursive: true });
  writeFileSync(
    join(H, 'disk', 'data', h.state === 'installed' ? 'precious.txt' : 'old-os.txt'),
    `data on the disk of ${h.name}, written when the lab started\n`,
  );

  if (h.state === 'installed' && o.toplevel) {
    // A first generation, put in place with real nix copy + nix-env (via the nixos-install stand-in).
    const env = { ...o.nixEnv };
    delete env.FLEET_LAB_LOG;
    await must(join(labBinDir, 'nixos-install'), ['--root', join(H, 'disk'), '--system', o.toplevel, '--no-root-passwd', '--no-channel-copy'], {
      env,
    });
  }

  // Network: a namespace and a veth pair; the addresses exist only on these two ends.
  await must('ip', ['netns', 'add', h.netns]);
  rec.netns.push(h.netns);
  saveRecord(rec);
  const vethHost = `fh-${rec.prefix}-${h.index}`;
  await must('ip', ['link', 'add', h.vethRoot, 'type', 'veth', 'peer', 'name', vethHost, 'netns', h.netns]);
  rec.links.push(h.vethRoot);
  saveRecord(rec);
  await must('ip', ['-n', h.netns, 'link', 'set', vethHost, 'name', 'eth0']);
  if (o.bridge) {
    await must('ip', ['link', 'set', h.vethRoot, 'master', o.bridge]);
  } else {
    await must('ip', ['addr', 'add', `${h.rootAddress}/30`, 'dev', h.vethRoot]);
  }
  await must('ip', ['link', 'set', h.vethRoot, 'up']);
  await must('ip', ['-n', h.netns, 'addr', 'add', `${h.address}/${o.bridge ? 24 : 30}`, 'dev', 'eth0']);
  await must('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up']);

  await must(join(bin, 'lab-host.sh'), ['boot', H], { timeoutMs: 30_000 });
  await waitForPort(h.address, 22, 10_000);
  return hostKey;
}

/**
 * Starts the lab binary cache: a signing key, a `file://` cache directory, and an HTTP server for it
 * in a network namespace of its own, on the lab bridge at .254.
 */
async function startCache(rec: LabRecord, bridge: string, nixEnv: NodeJS.ProcessEnv): Promise<LabCache> {
  const { dir, prefix } = rec;
  const cacheRoot = join(dir, 'binary-cache');
  const served = join(cacheRoot, 'www');
  mkdirSync(served, { recursive: true });
  const secretKeyFile = join(cacheRoot, 'secret-key');
  const publicKeyFile = join(cacheRoot, 'public-key');
  await must('nix-store', ['--generate-binary-cache-key', `fleet-lab-${prefix}-1`, secretKeyFile, publicKeyFile], { env: nixEnv });
  const publicKey = readFileSync(publicKeyFile, 'utf8').trim();
  // What `nix copy --to file://` writes first; present from the start, so that a host asking an
  // empty cache gets "no such path" rather than a cache that does not exist.
  writeFileSync(join(served, 'nix-cache-info'), 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n');

  // A host name may not start with "-": this namespace name cannot be a host's.
  const netns = `fleet-${prefix}--cache`;
  const vethRoot = `fl-${prefix}-c`;
  const address = `${SUBNET_BASE}.${rec.subnet}.254`;
  await must('ip', ['netns', 'add', netns]);
  rec.netns.push(netns);
  saveRecord(rec);
  await must('ip', ['link', 'add', vethRoot, 'type', 'veth', 'peer', 'name', `fc-${prefix}`, 'netns', netns]);
  rec.links.push(vethRoot);
  saveRecord(rec);
  await must('ip', ['-n', netns, 'link', 'set', `fc-${prefix}`, 'name', 'eth0']);
  await must('ip', ['link', 'set', vethRoot, 'master', bridge]);
  await must('ip', ['link', 'set', vethRoot, 'up']);
  await must('ip', ['-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  await must('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);

  const log = join(cacheRoot, 'requests.log');
  let server: number | null = null;
  const start = async () => {
    if (server !== null) return;
    const out = openSync(log, 'a');
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, CACHE_SERVER, served, address, String(CACHE_PORT)], {
      detached: true,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    child.unref();
    server = child.pid ?? null;
    await waitForPort(address, CACHE_PORT, 10_000);
  };
  const stop = async () => {
    if (server === null) return;
    const pid = server;
    server = null;
    killPid(pid, 'SIGKILL');
    // Gone when nothing listens any more (connection refused, as from a cache that is down).
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}/status`) && !/^State:\s+Z/m.test(readOr(`/proc/${pid}/status`, '')); i++) await sleep(20);
  };
  await start();

  const url = `http://${address}:${CACHE_PORT}`;
  const storeUrl = (base: string) => `${base}?secret-key=${secretKeyFile}&compression=none`;
  return {
    address,
    port: CACHE_PORT,
    url,
    publicKey,
    secretKeyFile,
    dir: served,
    pushUrl: storeUrl(url),
    add: async (paths) => {
      if (paths.length === 0) return;
      await must('nix', [...NIX_FLAGS, 'copy', '--to', storeUrl(`file://${served}`), ...paths], { env: nixEnv });
    },
    has: (path) => {
      const hash = /^\/nix\/store\/([a-z0-9]{32})-/.exec(path)?.[1];
      return hash !== undefined && existsSync(join(served, `${hash}.narinfo`));
    },
    stop,
    start,
    requests: () =>
      readOr(log, '')
        .split('\n')
        .filter((l) => l.startsWith('{"time"'))
        .map((l) => JSON.parse(l) as CacheRequest),
  };
}

function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = createConnection({ host, port });
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`lab: ${host}:${port} not listening`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Parses the stand-ins' JSON-lines log into one entry per invocation. */
export function parseToolLog(text: string): ToolInvocation[] {
  const byId = new Map<string, ToolInvocation>();
  const order: ToolInvocation[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const id = String(e.id);
    if (e.event === 'start') {
      const inv: ToolInvocation = {
        id,
        tool: String(e.tool),
        argv: e.argv as string[],
        env: e.env as string[],
        sshOpts: e.sshOpts as string[],
        cwd: String(e.cwd),
        time: String(e.time),
        steps: [],
        exitCode: null,
      };
      byId.set(id, inv);
      order.push(inv);
    } else if (e.event === 'step') {
      byId.get(id)?.steps.push({ step: String(e.step), argv: e.argv as string[] });
    } else if (e.event === 'exit') {
      const inv = byId.get(id);
      if (inv) inv.exitCode = Number(e.exitCode);
    }
  }
  return order;
}
