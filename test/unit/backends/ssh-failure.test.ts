// ssh's own failures (exit 255) in one line a user can act on; stderr as OpenSSH 9 prints it.
import { describe, expect, it } from 'vitest';
import { describeSshFailure } from '../../../src/backends/index.js';

describe('describeSshFailure', () => {
  it('names the key a host offered when it is not the pinned one', () => {
    const stderr = [
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
      '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
      'The fingerprint for the ED25519 key sent by the remote host is',
      'SHA256:3lp1Qn6mKQb0Dq7nH6m2XQe0bQm0Zc8yGqk2vW1Xy2Q.',
      'Host key verification failed.',
    ].join('\n');
    // The sentence's full stop is not part of the fingerprint.
    expect(describeSshFailure(stderr)).toBe('host key verification failed: the host offered SHA256:3lp1Qn6mKQb0Dq7nH6m2XQe0bQm0Zc8yGqk2vW1Xy2Q, which is not pinned');
  });

  it('says which key is missing for a host nobody pinned or listed', () => {
    const stderr = 'No ED25519 host key is known for 10.231.7.2 and you have requested strict checking.\r\nHost key verification failed.\r\n';
    expect(describeSshFailure(stderr)).toBe('host key verification failed: no ED25519 key is known for 10.231.7.2 (pin it with hostKey)');
  });

  it('gives the last line of any other failure', () => {
    expect(describeSshFailure('ssh: connect to host 10.0.0.1 port 22: Connection refused\n')).toBe('ssh failed: ssh: connect to host 10.0.0.1 port 22: Connection refused');
    expect(describeSshFailure('')).toBe('ssh failed');
  });
});
