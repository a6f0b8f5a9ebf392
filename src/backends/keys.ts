// Keys: finding or generating a host's keys locally, staging them for a bootstrap, pushing them over ssh.
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HostError } from '../errors.js';
import { tailLines, type Exec } from '../exec/index.js';
import { keygenCommand, resolveArgv, type PlannedKeys } from '../plan/index.js';

/** A key file ready to push. `content` is key material: never log it, never put it in argv. */
export interface KeyFile {
  name: string;
  mode: string;
  content: Buffer;
}

export interface ResolvedKeys {
  files: KeyFile[];
  /** The host's public key line (`ssh-ed25519 AAAA… comment`), when a host key is pushed. */
  hostPublicKey?: string;
  /** Where the host key was found or made. */
  hostKeyPath?: string;
  generated: boolean;
}

/**
 * Finds the host key among the candidates (first existing wins), generating it with
 * ssh-keygen when the policy allows, and reads the agenix key.
 */
export async function resolveKeys(host: string, keys: PlannedKeys, exec: Exec, signal?: AbortSignal): Promise<ResolvedKeys> {
  let hostKeyPath = keys.hostKeyCandidates.find((candidate) => existsSync(candidate));
  let generated = false;
  if (!hostKeyPath && keys.generateAt) {
    mkdirSync(dirname(keys.generateAt), { recursive: true, mode: 0o700 });
    const command = keygenCommand(keys.generateAt, host);
    const result = await exec({ argv: resolveArgv(command.argv, {}), signal });
    if (result.exitCode !== 0) {
      throw new HostError(host, 'push-keys', `ssh-keygen could not make ${keys.generateAt}`, tailLines(result));
    }
    hostKeyPath = keys.generateAt;
    generated = true;
  }
  const files: KeyFile[] = [];
  let hostPublicKey: string | undefined;
  if (keys.hostKeyCandidates.length > 0) {
    if (!hostKeyPath) {
      throw new HostError(
        host,
        'push-keys',
        `no host key found (looked for ${keys.hostKeyCandidates.join(', ')})`,
        [],
        'add the key there, or set keys.generate: true',
      );
    }
    const publicPath = `${hostKeyPath}.pub`;
    if (!existsSync(publicPath)) {
      throw new HostError(host, 'push-keys', `${publicPath} is missing beside the host key`, [], `ssh-keygen -y -f ${hostKeyPath} > ${publicPath}`);
    }
    hostPublicKey = readFileSync(publicPath, 'utf8').trim();
    files.push({ name: 'ssh_host_ed25519_key', mode: '0600', content: readFileSync(hostKeyPath) });
    files.push({ name: 'ssh_host_ed25519_key.pub', mode: '0644', content: Buffer.from(`${hostPublicKey}\n`) });
  }
  if (keys.agenixKey) {
    if (!existsSync(keys.agenixKey.source)) {
      throw new HostError(host, 'push-keys', `agenix key ${keys.agenixKey.source} does not exist`);
    }
    files.push({ name: keys.agenixKey.name, mode: '0600', content: readFileSync(keys.agenixKey.source) });
  }
  return { files, hostPublicKey, hostKeyPath, generated };
}

/** sha256 of each file, to compare with what the probe saw on the target. */
export function keyDigests(files: readonly KeyFile[]): Record<string, string> {
  return Object.fromEntries(files.map((f) => [f.name, createHash('sha256').update(f.content).digest('hex')]));
}

/** Files whose digest on the target differs from ours (or are missing there). */
export function keysToPush(files: readonly KeyFile[], remote: Record<string, string>): KeyFile[] {
  const local = keyDigests(files);
  return files.filter((f) => remote[f.name] !== local[f.name]);
}

/**
 * Lays out the --extra-files tree for nixos-anywhere: the manifest's extra files, then the keys
 * under their destination directory, private files 0600 in a 0700 tree.
 */
export function stageBootstrapFiles(staging: string, destination: string, files: readonly KeyFile[], extraFiles?: string): void {
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  chmodSync(staging, 0o700);
  if (extraFiles) cpSync(extraFiles, staging, { recursive: true });
  const keyDir = join(staging, destination.replace(/^\/+/, ''));
  mkdirSync(keyDir, { recursive: true, mode: 0o755 });
  for (const file of files) {
    const path = join(keyDir, file.name);
    // Written by fs, not a process: the content never reaches an argv.
    writeFileMode(path, file.content, Number.parseInt(file.mode, 8));
  }
}

function writeFileMode(path: string, content: Buffer, mode: number): void {
  rmSync(path, { force: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}
