// known_hosts written from the manifest's pinned keys and the keys fleet itself pushes.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SshEndpoint } from '../manifest/inventory.js';

/** The host part of a known_hosts line: `host`, or `[host]:port` off port 22. */
export function knownHostsName(endpoint: Pick<SshEndpoint, 'host' | 'port'>): string {
  return endpoint.port === 22 ? endpoint.host : `[${endpoint.host}]:${endpoint.port}`;
}

/** known_hosts lines for one endpoint and its public keys (`type base64 [comment]`, comment dropped). */
export function knownHostsLines(endpoint: Pick<SshEndpoint, 'host' | 'port'>, publicKeys: readonly string[]): string[] {
  return publicKeys.map((key) => {
    const [type, blob] = key.trim().split(/\s+/);
    return `${knownHostsName(endpoint)} ${type} ${blob}`;
  });
}

/** Writes a whole known_hosts file atomically (0600); two runs at once write the same content. */
export function writeKnownHosts(path: string, lines: readonly string[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, lines.length > 0 ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
  renameSync(tmp, path);
}

/** Adds lines to a known_hosts file unless already there. */
export function addKnownHosts(path: string, lines: readonly string[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const existing = existsSync(path) ? readFileSync(path, 'utf8').split('\n') : [];
  const missing = lines.filter((l) => !existing.includes(l));
  if (missing.length > 0) appendFileSync(path, `${missing.join('\n')}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
