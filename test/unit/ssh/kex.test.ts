import { describe, expect, it } from 'vitest';
import { fastKexWords, parseKexAlgorithms, sshConfigQuery, SSH_DEFAULTS_QUERY } from '../../../src/ssh/index.js';

// OpenSSH 9.2's compiled-in list (Debian 12), and 9.9's, whose first choice is fast already.
const OPENSSH_9_2 = ['sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256'];
const OPENSSH_9_9 = ['mlkem768x25519-sha256', 'sntrup761x25519-sha512', 'sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'curve25519-sha256@libssh.org'];

describe('the key exchange of a connection that carries nothing secret', () => {
  it('puts curve25519 first in ssh’s own list when nobody set KexAlgorithms and sntrup761 leads it', () => {
    expect(fastKexWords(OPENSSH_9_2, OPENSSH_9_2)).toEqual([
      '-o',
      'KexAlgorithms=curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512@openssh.com,ecdh-sha2-nistp256,diffie-hellman-group14-sha256',
    ]);
  });

  it('never adds an algorithm and leaves a list the user chose as it is', () => {
    const chosen = ['sntrup761x25519-sha512@openssh.com'];
    expect(fastKexWords(chosen, OPENSSH_9_2)).toEqual([]);
    expect(fastKexWords(['sntrup761x25519-sha512@openssh.com', 'curve25519-sha256'], OPENSSH_9_2)).toEqual([]);
  });

  it('leaves a fast default (mlkem768x25519) and an unreadable configuration alone', () => {
    expect(fastKexWords(OPENSSH_9_9, OPENSSH_9_9)).toEqual([]);
    expect(fastKexWords(undefined, OPENSSH_9_2)).toEqual([]);
    expect(fastKexWords(OPENSSH_9_2, undefined)).toEqual([]);
  });

  it('reads ssh -G’s kexalgorithms line, and asks it with the same options and destination, no remote command', () => {
    expect(parseKexAlgorithms(`user root\nkexalgorithms ${OPENSSH_9_2.join(',')}\nport 22\n`)).toEqual(OPENSSH_9_2);
    expect(parseKexAlgorithms('user root\n')).toBeUndefined();
    expect(sshConfigQuery(['ssh', '-o', 'BatchMode=yes', '-p', '22', '--', 'root@10.0.0.1', "sh -c 'confirm'"])).toEqual([
      'ssh', '-G', '-o', 'BatchMode=yes', '-p', '22', '--', 'root@10.0.0.1',
    ]);
    // How a connection is shared is not what it negotiates: a host's fresh and shared connections ask the same question.
    const fresh = ['ssh', '-o', 'ControlMaster=no', '-o', 'ControlPath=none', '-o', 'BatchMode=yes', '-p', '22', '--', 'root@10.0.0.1', 'x'];
    const shared = ['ssh', '-o', 'BatchMode=yes', '-o', 'ControlMaster=auto', '-o', 'ControlPath=/run/f/%C.fast', '-o', 'ControlPersist=10', '-p', '22', '--', 'root@10.0.0.1', 'y'];
    expect(sshConfigQuery(fresh)).toEqual(sshConfigQuery(shared));
    expect(SSH_DEFAULTS_QUERY).toContain('/dev/null');
  });
});
