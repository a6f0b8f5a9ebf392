// Reading why ssh itself failed (exit 255) from its stderr, in words a user can act on.
import { JUMP_ALIAS } from '../ssh/index.js';

/** One line saying why ssh could not run the command, with host key fingerprints when that was it. */
export function describeSshFailure(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.some((l) => l.includes('REMOTE HOST IDENTIFICATION HAS CHANGED') || l.includes('Host key verification failed'))) {
    const offered = stderr.match(/key sent by the remote host is\s*\n?\s*(SHA256:[A-Za-z0-9+/=]+)/)?.[1];
    const offeredAlt = stderr.match(/(SHA256:[A-Za-z0-9+/=]+)/)?.[1];
    const fp = offered ?? offeredAlt;
    if (fp) return `host key verification failed: the host offered ${fp}, which is not pinned`;
    // An unknown host under StrictHostKeyChecking=yes: ssh names no fingerprint.
    const unknown = stderr.match(/No (\S+) host key is known for (\S+)/);
    return unknown ? `host key verification failed: no ${unknown[1]} key is known for ${unknown[2]} (pin it with hostKey)` : 'host key verification failed';
  }
  // A connection through a proxy (fleet's jump host) that the proxy ended: with ControlPersist, ssh
  // sends the hop's own error (host key, identity, no route) to /dev/null, so say where to look.
  if (lines.some((l) => l.includes('Connection closed by UNKNOWN port 65535'))) {
    return (
      'ssh failed: the jump host closed the connection (Connection closed by UNKNOWN port 65535): it refused fleet ' +
      '(its host key, the identity) or could not reach the host; ssh hides the hop\'s own error on a shared connection: ' +
      `try ssh -F <the jump host's config, in fleet plan> ${JUMP_ALIAS} true`
    );
  }
  const last = lines.filter((l) => !l.startsWith('Warning: Permanently added')).at(-1);
  return last ? `ssh failed: ${last}` : 'ssh failed';
}

/** ssh exits 255 when ssh itself (connection, auth, host key) failed. */
export const SSH_FAILED = 255;
