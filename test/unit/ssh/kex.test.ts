import { describe, expect, it } from 'vitest';
import { freshKexWords, parseKexAlgorithms, sshConfigQuery, SSH_DEFAULTS_QUERY } from '../../../src/ssh/index.js';

// OpenSSH 9.2's compiled-in list (Debian 12), and 9.9's, whose first choice is fast already.
const OPENSSH_9_2 = ['sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256'];
const OPENSSH_9_9 = ['mlkem768x25519-sha256', 'sntrup761x25519-sha512', 'sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'curve25519-sha256@libssh.org'];

describe('the fresh connection’s key exchange', () => {
  it('puts curve25519 first in ssh’s own list when nobody set KexAlgorithms and sntrup761 leads it', () => {
    expect(freshKexWords(OPENSSH_9_2, OPENSSH_9_2)).toEqual([
      '-o',
      'KexAlgorithms=curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512@openssh.com,ecdh-sha2-nistp256,diffie-hellman-group14-sha256',
    ]);
  });

  it('never adds an algorithm and leaves a list the user chose as it is', () => {
    const chosen = ['sntrup761x25519-sha512@openssh.com'];
    expect(freshKexWords(chosen, OPENSSH_9_2)).toEqual([]);
    expect(freshKexWords(['sntrup761x25519-sha512@openssh.com', 'curve25519-sha256'], OPENSSH_9_2)).toEqual([]);
  });

  it('leaves a fast default (mlkem768x25519) and an unreadable configuration alone', () => {
    expect(freshKexWords(OPENSSH_9_9, OPENSSH_9_9)).toEqual([]);
    expect(freshKexWords(undefined, OPENSSH_9_2)).toEqual([]);
    expect(freshKexWords(OPENSSH_9_2, undefined)).toEqual([]);
  });

  it('reads ssh -G’s kexalgorithms line, and asks it with the same options and destination, no remote command', () => {
    expect(parseKexAlgorithms(`user root\nkexalgorithms ${OPENSSH_9_2.join(',')}\nport 22\n`)).toEqual(OPENSSH_9_2);
    expect(parseKexAlgorithms('user root\n')).toBeUndefined();
    expect(sshConfigQuery(['ssh', '-o', 'ControlMaster=no', '-p', '22', '--', 'root@10.0.0.1', "sh -c 'confirm'"])).toEqual([
      'ssh', '-G', '-o', 'ControlMaster=no', '-p', '22', '--', 'root@10.0.0.1',
    ]);
    expect(SSH_DEFAULTS_QUERY).toContain('/dev/null');
  });
});
