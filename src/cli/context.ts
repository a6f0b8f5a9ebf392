// The "resolve" step of every command: find and load the manifest, probe local tools, build the plan.
import { tmpdir } from 'node:os';
import { execProcess, programIsMissing, type Exec } from '../exec/index.js';
import { evalCacheDir, lookupEvalCache, withholdSecretEnvironment } from '../backends/index.js';
import type { Inventory, Mode, ToolCommands } from '../manifest/inventory.js';
import { loadManifest, resolveManifestPath } from '../manifest/index.js';
import {
  buildAttributes,
  buildPlan,
  evalLimitFromMemory,
  needsSystems,
  selectHosts,
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
  /** --specialisation; overrides each selected host's specialisation. */
  specialisation?: string;
  /** Which steps run (apply: all). */
  scope?: Partial<StepScope>;
  /** Compare each host's live and built system first: fleet diff (report), apply --diff (show), --confirm. */
  diff?: DiffUse;
  /** --canary, --waves, --pause, --on-failure, --no-rollout. */
  rollout?: RolloutOptions;
  /** --no-substitutes (false). */
  substitutes?: boolean;
  /** --keep-result. */
  keepResult?: boolean;
  /**
   * Whether this command may activate systems through nixos-rebuild. The operating commands do
   * not: they never ask the installed nixos-rebuild and their plans activate as fleet itself does.
   */
  activates?: boolean;
  /** --impure: evaluate with --impure (never cached). */
  impure?: boolean;
  /** false: --no-eval-cache (evaluate every host, keep nothing). */
  evalCache?: boolean;
  /** Whether the command evaluates the hosts' systems (default: when its steps need them; fleet status does). */
  evaluates?: boolean;
  /** --ask-sudo-password: hosts that escalate with sudo take the password fleet asks for. */
  askSudoPassword?: boolean;
}

/** Loads the manifest named by -f, $FLEET_FILE or ./fleet.yaml. */
export async function loadInventory(file: string | undefined): Promise<Inventory> {
  const path = resolveManifestPath(file, process.env, process.cwd());
  return loadManifest(path, { env: process.env });
}

/** The installed nixos-rebuild's answer: which flavour it is, or that there is none to ask. */
export type InstalledRebuild = RebuildFlavour | 'absent';

/**
 * Asks the installed nixos-rebuild which it is, without side effects and without its help text
 * (the bash one's --help is `exec man nixos-rebuild`, which prints only "No manual entry" where no
 * man page is installed): `nixos-rebuild --store-path` with no value. nixos-rebuild-ng that has
 * the flag says argparse's `expected one argument`; one without it `unrecognized arguments`; the
 * bash one ``unknown option `--store-path'``; a program that cannot be started at all (exec's exit
 * 127, ENOENT) is `absent`. Anything else is an error, never a guess.
 */
export async function detectRebuildFlavour(commands: ToolCommands, exec: Exec = execProcess): Promise<InstalledRebuild> {
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
  if (result.notStarted === 'ENOENT') return 'absent';
  if (/argument --store-path: expected one argument/.test(text)) return 'ng';
  if (/unrecognized arguments:.*--store-path/.test(text)) return 'bash';
  if (/unknown option [`']--store-path'/.test(text)) return 'bash';
  const last = text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? 'no output';
  throw new UsageError(`cannot tell which nixos-rebuild this is: \`${shown}\` answered exit ${result.exitCode ?? result.signal}: ${last}`, hint);
}

/** Which flavour activates this run's systems, and why, in one line for `fleet plan`. */
export interface RebuildChoice {
  flavour: RebuildFlavour;
  why: string;
}

const OWN_ACTIVATION = 'fleet activates the built systems itself (the target sequence of the bash nixos-rebuild)';

/**
 * The flavour for a run: as written (`rebuildFlavour`, --rebuild-flavour), or asked of the
 * installed nixos-rebuild for `auto`. Without a nixos-rebuild on PATH, `auto` means fleet's own
 * activation, which needs none; only an explicit `ng` without the tool is an error, here, so that
 * `fleet plan` fails as `fleet apply` would. A run that activates nothing asks nothing.
 */
export async function chooseRebuildFlavour(
  wanted: 'auto' | RebuildFlavour,
  source: string,
  deploys: boolean,
  commands: ToolCommands,
  exec: Exec = execProcess,
  path: string | undefined = process.env.PATH,
): Promise<RebuildChoice> {
  const program = commands.nixosRebuild[0] ?? 'nixos-rebuild';
  if (wanted === 'bash') return { flavour: 'bash', why: `${source} bash: ${OWN_ACTIVATION}` };
  if (wanted === 'ng') {
    if (deploys && programIsMissing(program, path)) {
      throw new UsageError(
        `${source} ng, but there is no ${program} on PATH to activate with`,
        'install nixos-rebuild-ng (with --store-path), or set rebuildFlavour: auto or bash: fleet then activates the built systems itself and needs no nixos-rebuild',
      );
    }
    return { flavour: 'ng', why: `${source} ng: ${program} --store-path activates the built systems` };
  }
  if (!deploys) return { flavour: 'bash', why: `${source} auto: nothing is activated, nixos-rebuild is not asked` };
  const installed = programIsMissing(program, path) ? 'absent' : await detectRebuildFlavour(commands, exec);
  if (installed === 'absent') return { flavour: 'bash', why: `${source} auto, and no ${program} on PATH: ${OWN_ACTIVATION}` };
  if (installed === 'ng') return { flavour: 'ng', why: `${source} auto: ${program} is nixos-rebuild-ng with --store-path, which activates the built systems` };
  return { flavour: 'bash', why: `${source} auto: ${program} has no --store-path (bash, or an older nixos-rebuild-ng): ${OWN_ACTIVATION}` };
}

/** `nix --version` of this machine, or '' when nix cannot be run here: asked once per run, by the plan. */
export async function detectNixVersion(commands: ToolCommands, exec: Exec = execProcess): Promise<string> {
  const result = await exec({ argv: [...commands.nix, '--version'], timeoutMs: 15000 }).catch(() => undefined);
  return result?.exitCode === 0 ? result.stdout.trim() : '';
}

/** Manifest → inventory → plan, as `fleet plan` prints it and `fleet apply` runs it. */
export async function planFromArgs(args: ContextArgs, exec: Exec = execProcess): Promise<{ inventory: Inventory; plan: Plan }> {
  const inventory = await loadInventory(args.file);
  withholdSecretEnvironment(inventory.hosts.flatMap((h) => h.secrets.flatMap((s) => (s.source.kind === 'env' ? [s.source.name] : []))));
  const wanted = args.rebuildFlavour ?? inventory.rebuildFlavour;
  const source = args.rebuildFlavour !== undefined ? '--rebuild-flavour' : 'rebuildFlavour:';
  const deploys = (args.activates ?? true) && !args.scope?.buildOnly && (args.scope?.steps ?? ['deploy']).includes('deploy');
  const flavour = chooseRebuildFlavour(wanted, source, deploys, inventory.commands, exec);
  const nixVersionAsked = detectNixVersion(inventory.commands, exec);
  const [rebuild, nixVersion, provenance, evalCache] = await Promise.all([flavour, nixVersionAsked, provenanceFor(inventory.flake, process.env, exec), evalCacheFor(args, inventory, nixVersionAsked, exec)]);
  const evalLimit = args.evalLimit ?? inventory.evalLimit;
  const evalJobs = args.evalJobs ?? inventory.evalJobs ?? availableParallelism();
  const free = freemem();
  const plan = buildPlan(inventory, {
    selection: args.selection,
    modeOverride: args.modeOverride,
    ...(args.specialisation ? { specialisationOverride: args.specialisation } : {}),
    parallel: args.parallel,
    evalLimit: evalLimit ?? evalLimitFromMemory(free, evalJobs),
    evalLimitSource: evalLimit === undefined ? 'memory' : 'given',
    evalJobs,
    evaluatorMemoryMiB: evaluatorMemoryMiB(free, evalJobs),
    force: args.force ?? false,
    failFast: args.failFast ?? false,
    allowBootstrap: args.allowBootstrap ?? false,
    paths: runPathsFor(inventory.manifestPath, tmpdir()),
    rebuildFlavour: rebuild.flavour,
    rebuildFlavourChoice: rebuild.why,
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
    ...(args.impure ? { impure: true } : {}),
    ...(evalCache ? { evalCache } : {}),
    ...(args.substitutes === false ? { substitutes: false } : {}),
    ...(args.keepResult ? { keepResult: true } : {}),
  });
  return { inventory, plan };
}

/**
 * What the evaluation cache answers for the hosts this command evaluates (undefined: it evaluates
 * none): a resolve-time input the plan takes, so that `fleet plan` shows which hosts come from it.
 */
async function evalCacheFor(args: ContextArgs, inventory: Inventory, nixVersion: Promise<string>, exec: Exec) {
  const evaluates = args.evaluates ?? ((args.activates ?? true) && needsSystems(args.scope));
  if (!evaluates) return undefined;
  const attributes = selectHosts(inventory.hosts, args.selection).flatMap((h) => buildAttributes(inventory.flake, h.name, h.bootstrap));
  return lookupEvalCache({
    commands: inventory.commands,
    flake: inventory.flake,
    nixVersion: await nixVersion,
    attributes,
    impure: args.impure ?? false,
    disabled: args.evalCache === false,
    dir: evalCacheDir(process.env),
    exec,
  });
}
