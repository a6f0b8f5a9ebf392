// Reading known_hosts lines: which keys a file holds for one host, and their fingerprints (pure).
import { createHash, createHmac } from 'node:crypto';
import type { SshEndpoint } from '../manifest/inventory.js';

/** A host key as a known_hosts line names it. */
export interface KnownHostKey {
  type: string;
  /** The base64 key blob. */
  key: string;
}

/** The name ssh records a host under: `host` on port 22, else `[host]:port`. */
export function knownHostsName(endpoint: SshEndpoint): string {
  return endpoint.port === 22 ? endpoint.host : `[${endpoint.host}]:${endpoint.port}`;
}

/** Whether one known_hosts host field (plain patterns, or `|1|salt|hash` when hashed) names `name`. */
function fieldNames(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return field.split(',').includes(name);
}

/** The keys `text` (a known_hosts file) holds for `name`; markers (@revoked, @cert-authority) are not keys. */
export function knownKeysFor(text: string, name: string): KnownHostKey[] {
  const keys: KnownHostKey[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words.length < 3 || words[0]!.startsWith('#') || words[0]!.startsWith('@')) continue;
    if (fieldNames(words[0]!, name)) keys.push({ type: words[1]!, key: words[2]! });
  }
  return keys;
}

/** `SHA256:…`, as `ssh-keygen -l` prints it. */
export function sha256Fingerprint(key: KnownHostKey): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(key.key, 'base64')).digest('base64').replace(/=+$/, '')}`;
}
