// fleet install: the local counterpart of bootstrap — put a built system and its keys into a mounted root.
import { chmodSync, existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Exec, ExecResult } from '../exec/index.js';
import type { ToolCommands } from '../manifest/inventory.js';
import { nixosInstallCommand } from '../plan/index.js';
import type { KeyFile } from './keys.js';

/** Undoes the octal escapes of /proc/self/mountinfo (`\040` for a space). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Mount points listed in a /proc/self/mountinfo text (field 5). */
export function mountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined && p.length > 0)
    .map(unescapeMountPath);
}

/**
 * Why fleet refuses to install into `root`, or undefined. `root` must already be resolved
 * (realpath); the checks are: a mount point, and no NixOS system there yet (unless forced).
 */
export function installRefusal(root: string, facts: { mountinfo: string; exists: (path: string) => boolean }, force: boolean): string | undefined {
  if (root === '/') return 'refusing to install into / (the running system)';
  if (force) return undefined;
  if (!mountPoints(facts.mountinfo).includes(root)) {
    return `${root} is not a mount point: mount the new system's root file system there first (or pass --force)`;
  }
  const existing = ['etc/NIXOS', 'nix/var/nix/profiles/system'].map((p) => join(root, p)).filter((p) => facts.exists(p));
  if (existing.length > 0) {
    return `${root} already holds a NixOS system (${existing.join(', ')}); pass --force to install over it`;
  }
  return undefined;
}

/** Resolves the root and checks it against this machine's mounts. */
export function checkInstallRoot(root: string, force: boolean, mountinfo: string): { root: string; refusal?: string } {
  if (!existsSync(root)) return { root, refusal: `${root} does not exist` };
  const resolved = realpathSync(root);
  return { root: resolved, refusal: installRefusal(resolved, { mountinfo, exists: existsSync }, force) };
}

/**
 * Writes the key files under `<root>/<destination>` with fs (never through a process's argv):
 * private files 0600, directories 0755. Returns the paths written.
 */
export function placeInstallKeys(root: string, destination: string, files: readonly KeyFile[]): string[] {
  const dir = join(root, destination.replace(/^\/+/, ''));
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return files.map((file) => {
    const path = join(dir, file.name);
    const mode = Number.parseInt(file.mode, 8);
    rmSync(path, { force: true });
    writeFileSync(path, file.content, { mode });
    chmodSync(path, mode);
    return path;
  });
}

/** Runs nixos-install --root R --system P --no-root-passwd, streaming its lines. */
export function runNixosInstall(
  commands: ToolCommands,
  root: string,
  system: string,
  exec: Exec,
  options: { signal?: AbortSignal; onLine?: (line: string) => void } = {},
): Promise<ExecResult> {
  return exec({
    argv: nixosInstallCommand(commands, root, system),
    signal: options.signal,
    onLine: (line) => line.trim() && options.onLine?.(line),
  });
}
