// The "resolve" step of every command: find and load the manifest, probe local tools, build the plan.
import { accessSync, constants, mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { tmpdir } from 'node:os';
import { execProcess, type Exec } from '../exec/index.js';
import { withholdSecretEnvironment } from '../backends/index.js';
import type { Inventory, Mode, ToolCommands } from '../manifest/inventory.js';
import { loadManifest, resolveManifestPath } from '../manifest/index.js';
import {
  buildPlan,
  evalLimitFromMemory,
  evaluatorMemoryMiB,
  runPathsFor,
  type DiffUse,
  type Plan,
  type RebuildFlavour,
  type RolloutOptions,
  type Selection,
  type StepScope,
} from '../plan/index.js';
import { UsageError } from '../errors.js';
import { availableParallelism, freemem, hostname, userInfo } from 'node:os';
import { provenanceFor } from './provenance.js';

export interface ContextArgs {
  file?: string;
  selection: Selection;
  modeOverride?: Mode;
  parallel?: number;
  evalLimit?: number;
  /** --eval-jobs; overrides the manifest's evalJobs. */
  evalJobs?: number;
  force?: boolean;
  failFast?: boolean;
  allowBootstrap?: boolean;
  connectTimeout?: number;
  lockTimeout?: number;
  /** --rebuild-flavour; overrides the manifest's rebuildFlavour. */
  rebuildFlavour?: 'auto' | RebuildFlavour;
  /** Which steps run (apply: all). */
  scope?: Partial<StepScope>;
  /** Compare each host's live and built system first: fleet diff (report), apply --diff (show), --confirm. */
  diff?: DiffUse;
  /** --canary, --waves, --pause, --on-failure, --no-rollout. */
  rollout?: RolloutOptions;
  /**
   * Whether this command may activate systems through nixos-rebuild. The operating commands do
   * not: they never ask the installed nixos-rebuild and their plans activate as fleet itself does.
   */
  activates?: boolean;
  /** --ask-sudo-password: hosts that escalate with sudo take the password fleet asks for. */
  askSudoPassword?: boolean;
}

/** Loads the manifest named by -f, $FLEET_FILE or ./fleet.yaml. */
export async function loadInventory(file: string | undefined): Promise<Inventory> {
  const path = resolveManifestPath(file, process.env, process.cwd());
  return loadManifest(path, { env: process.env });
}

/**
 * Asks the installed nixos-rebuild which it is, without side effects and without its help text
 * (the bash one's --help is `exec man nixos-rebuild`, which prints only "No manual entry" where no
 * man page is installed): `nixos-rebuild --store-path` with no value. nixos-rebuild-ng that has
 * the flag says argparse's `expected one argument`; one without it `unrecognized arguments`; the
 * bash one ``unknown option `--store-path'``. Anything else is an error, never a guess.
 */
export async function detectRebuildFlavour(commands: ToolCommands, exec: Exec = execProcess): Promise<RebuildFlavour> {
  const argv = [...commands.nixosRebuild, '--store-path'];
  const shown = argv.join(' ');
  const hint = 'set rebuildFlavour: ng or bash in fleet.yaml (bash: fleet activates the built system itself and needs no nixos-rebuild), or pass --rebuild-flavour';
  let result;
  try {
    result = await exec({ argv, timeoutMs: 15_000 });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot tell which nixos-rebuild this is: \`${shown}\` could not run (${why})`, hint);
  }
  const text = `${result.stdout}\n${result.stderr}`;
  if (/argument --store-path: expected one argument/.test(text)) return 'ng';
  if (/unrecognized arguments:.*--store-path/.test(text)) return 'bash';
  if (/unknown option [`']--store-path'/.test(text)) return 'bash';
  const last = text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? 'no output';
  throw new UsageError(`cannot tell which nixos-rebuild this is: \`${shown}\` answered exit ${result.exitCode ?? result.signal}: ${last}`, hint);
}

/** `nix --version` of this machine, or '' when nix cannot be run here. */
export async function detectNixVersion(commands: ToolCommands, exec: Exec = execProcess, cacheDir: string | null = toolCacheDir()): Promise<string> {
  // Every plan waits for this answer (the build's `^*`), and starting nix costs ~20 ms of CPU: it is
  // remembered per nix binary, by its real path, inode, size and time, so another nix is asked anew.
  // Only for a one-word command: `nix run …` answers for a nix it chooses each time.
  const key = commands.nix.length === 1 ? binaryIdentity(commands.nix[0]!, process.env.PATH) : undefined;
  const file = cacheDir && key ? join(cacheDir, 'nix-version.json') : undefined;
  if (file) {
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as { key?: unknown; version?: unknown };
      if (cached.key === key && typeof cached.version === 'string' && cached.version) return cached.version;
    } catch {
      // Not asked before (or unreadable): ask.
    }
  }
  const result = await exec({ argv: [...commands.nix, '--version'], timeoutMs: 15000 }).catch(() => undefined);
  const version = result?.exitCode === 0 ? result.stdout.trim() : '';
  if (file && version) {
    try {
      mkdirSync(cacheDir!, { recursive: true, mode: 0o700 });
      // Whole or not at all: another run may read it meanwhile.
      const partial = `${file}.${process.pid}`;
      writeFileSync(partial, JSON.stringify({ key, version }));
      renameSync(partial, file);
    } catch {
      // A cache that cannot be written is asked again next time; nothing else changes.
    }
  }
  return version;
}

/** Where fleet remembers local tool answers: $XDG_CACHE_HOME/fleet, else ~/.cache/fleet; null: nowhere. */
function toolCacheDir(): string | null {
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME ? join(process.env.HOME, '.cache') : '');
  return isAbsolute(base) ? join(base, 'fleet') : null;
}

/**
 * `real path:inode:size:mtime` of the program exec would run for `program` (found on `path` as
 * exec finds it), or undefined when it cannot be told.
 */
function binaryIdentity(program: string, path: string | undefined): string | undefined {
  const candidates: string[] = [];
  if (program.includes('/')) candidates.push(program);
  else {
    for (const dir of (path ?? '').split(':')) {
      // exec leaves a relative entry to the child; so does this.
      if (!dir.startsWith('/')) return undefined;
      candidates.push(join(dir, program));
    }
  }
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      const real = realpathSync(candidate);
      const stat = statSync(real);
      if (stat.isFile()) return `${real}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      // Not here: the next directory.
    }
  }
  return undefined;
}

/** Manifest → inventory → plan, as `fleet plan` prints it and `fleet apply` runs it. */
export async function planFromArgs(args: ContextArgs, exec: Exec = execProcess): Promise<{ inventory: Inventory; plan: Plan }> {
  const inventory = await loadInventory(args.file);
  withholdSecretEnvironment(inventory.hosts.flatMap((h) => h.secrets.flatMap((s) => (s.source.kind === 'env' ? [s.source.name] : []))));
  const wanted = args.rebuildFlavour ?? inventory.rebuildFlavour;
  const deploys = (args.activates ?? true) && !args.scope?.buildOnly && (args.scope?.steps ?? ['deploy']).includes('deploy');
  const flavour: Promise<RebuildFlavour> = wanted !== 'auto' ? Promise.resolve(wanted) : deploys ? detectRebuildFlavour(inventory.commands, exec) : Promise.resolve('bash');
  const [rebuildFlavour, nixVersion, provenance] = await Promise.all([flavour, detectNixVersion(inventory.commands, exec), provenanceFor(inventory.flake, process.env, exec)]);
  const evalLimit = args.evalLimit ?? inventory.evalLimit;
  const evalJobs = args.evalJobs ?? inventory.evalJobs ?? availableParallelism();
  const free = freemem();
  const plan = buildPlan(inventory, {
    selection: args.selection,
    modeOverride: args.modeOverride,
    parallel: args.parallel,
    evalLimit: evalLimit ?? evalLimitFromMemory(free, evalJobs),
    evalLimitSource: evalLimit === undefined ? 'memory' : 'given',
    evalJobs,
    evaluatorMemoryMiB: evaluatorMemoryMiB(free, evalJobs),
    force: args.force ?? false,
    failFast: args.failFast ?? false,
    allowBootstrap: args.allowBootstrap ?? false,
    paths: runPathsFor(inventory.manifestPath, tmpdir()),
    rebuildFlavour,
    nixVersion,
    localRoot: typeof process.getuid === 'function' ? process.getuid() === 0 : false,
    ...(args.askSudoPassword ? { askSudoPassword: true } : {}),
    connectTimeout: args.connectTimeout ?? 10,
    lockTimeout: args.lockTimeout ?? 30,
    operator: `${userInfo().username}@${hostname()}`,
    provenance,
    ...(args.scope ? { scope: args.scope } : {}),
    ...(args.diff ? { diff: args.diff } : {}),
    ...(args.rollout ? { rollout: args.rollout } : {}),
  });
  return { inventory, plan };
}
