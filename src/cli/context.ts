// The "resolve" step of every command: find and load the manifest, probe local tools, build the plan.
import { tmpdir } from 'node:os';
import { execProcess, type Exec } from '../exec/index.js';
import type { Inventory, Mode, ToolCommands } from '../manifest/inventory.js';
import { loadManifest, resolveManifestPath } from '../manifest/index.js';
import {
  buildPlan,
  evalLimitFromMemory,
  runPathsFor,
  type Plan,
  type RebuildFlavour,
  type Selection,
} from '../plan/index.js';
import { freemem, hostname, userInfo } from 'node:os';

export interface ContextArgs {
  file?: string;
  selection: Selection;
  modeOverride?: Mode;
  parallel?: number;
  evalLimit?: number;
  force?: boolean;
  failFast?: boolean;
  allowBootstrap?: boolean;
  connectTimeout?: number;
  lockTimeout?: number;
}

/** Loads the manifest named by -f, $FLEET_FILE or ./fleet.yaml. */
export async function loadInventory(file: string | undefined): Promise<Inventory> {
  const path = resolveManifestPath(file, process.env, process.cwd());
  return loadManifest(path, { env: process.env });
}

/** Asks the installed nixos-rebuild whether it takes --store-path (nixos-rebuild-ng) or not (bash). */
export async function detectRebuildFlavour(commands: ToolCommands, exec: Exec = execProcess): Promise<RebuildFlavour> {
  const result = await exec({ argv: [...commands.nixosRebuild, '--help'], timeoutMs: 15000 }).catch(() => undefined);
  if (!result) return 'ng';
  const text = `${result.stdout}\n${result.stderr}`;
  if (text.includes('--store-path')) return 'ng';
  if (text.includes('--fast') || text.includes('--use-remote-sudo')) return 'bash';
  return 'ng';
}

/** `nix --version` of this machine, or '' when nix cannot be run here. */
export async function detectNixVersion(commands: ToolCommands, exec: Exec = execProcess): Promise<string> {
  const result = await exec({ argv: [...commands.nix, '--version'], timeoutMs: 15000 }).catch(() => undefined);
  return result?.exitCode === 0 ? result.stdout.trim() : '';
}

/** Manifest → inventory → plan, as `fleet plan` prints it and `fleet apply` runs it. */
export async function planFromArgs(args: ContextArgs, exec: Exec = execProcess): Promise<{ inventory: Inventory; plan: Plan }> {
  const inventory = await loadInventory(args.file);
  const [flavour, nixVersion] = await Promise.all([detectRebuildFlavour(inventory.commands, exec), detectNixVersion(inventory.commands, exec)]);
  const plan = buildPlan(inventory, {
    selection: args.selection,
    modeOverride: args.modeOverride,
    parallel: args.parallel,
    evalLimit: args.evalLimit ?? inventory.evalLimit ?? evalLimitFromMemory(freemem()),
    force: args.force ?? false,
    failFast: args.failFast ?? false,
    allowBootstrap: args.allowBootstrap ?? false,
    paths: runPathsFor(inventory.manifestPath, tmpdir()),
    rebuildFlavour: flavour,
    nixVersion,
    localRoot: typeof process.getuid === 'function' ? process.getuid() === 0 : false,
    connectTimeout: args.connectTimeout ?? 10,
    lockTimeout: args.lockTimeout ?? 30,
    operator: `${userInfo().username}@${hostname()}`,
  });
  return { inventory, plan };
}
