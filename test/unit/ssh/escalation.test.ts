// Privilege escalation words, the sudo password wrapper's stdin framing, and how its argv is told apart.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  asRoot,
  escalate,
  escalationWords,
  passwordHead,
  PASSWORD_REFUSED_EXIT,
  PASSWORD_REFUSED_LINE,
  refusedPassword,
  sshCommand,
  SUDO_PASSWORD_NAME,
  SUDO_PASSWORD_SCRIPT,
  takesPassword,
  type SshSettings,
} from '../../../src/ssh/index.js';

const ssh: SshSettings = {
  endpoint: { kind: 'ssh', user: 'admin', host: '10.0.0.1', port: 22 },
  knownHostsFiles: [],
  trustOnFirstUse: false,
  extraOptions: [],
  connectTimeout: 5,
};

/** What the remote user's shell makes of the one command string ssh sends. */
function remoteWords(line: string): string[] {
  const out = execFileSync('sh', ['-c', `set -- ${line}; for w in "$@"; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('escalation words', () => {
  it('tells each tool never to ask: a question without a terminal would hang the step', () => {
    expect(escalationWords('sudo')).toEqual(['sudo', '-n', '--']);
    expect(escalationWords('doas')).toEqual(['doas', '-n', '--']);
    expect(escalationWords('run0')).toEqual(['run0', '--no-ask-password', '--']);
    expect(escalationWords({ argv: ['sudo', '-H', '--'] })).toEqual(['sudo', '-H', '--']);
  });

  it('root runs commands as they are; anyone else through the host`s escalation, sudo -n by default', () => {
    const cmd = ['sh', '-c', 'echo "$1"', 'x', "it's $(id)"];
    expect(asRoot({ endpoint: { ...ssh.endpoint, user: 'root' }, escalation: { method: 'doas', askPassword: false } }, cmd)).toEqual(cmd);
    expect(asRoot(ssh, cmd)).toEqual(['sudo', '-n', '--', ...cmd]);
    expect(remoteWords(sshCommand({ ...ssh, escalation: { method: 'run0', askPassword: false } }, cmd).at(-1)!)).toEqual(['run0', '--no-ask-password', '--', ...cmd]);
    expect(remoteWords(sshCommand({ ...ssh, escalation: { method: 'doas', askPassword: false } }, cmd).at(-1)!)).toEqual(['doas', '-n', '--', ...cmd]);
    expect(remoteWords(sshCommand({ ...ssh, escalation: { method: { argv: ['sudo', '-H', '--'] }, askPassword: false } }, cmd).at(-1)!)).toEqual(['sudo', '-H', '--', ...cmd]);
  });

  it('with a password: the wrapper, its $0, then the command, each word intact', () => {
    const cmd = ['sh', '-c', 'cat', 'fleet-x', 'a b', '$(touch /tmp/pwned)'];
    const words = remoteWords(sshCommand({ ...ssh, escalation: { method: 'sudo', askPassword: true } }, cmd).at(-1)!);
    expect(words).toEqual(['sh', '-c', SUDO_PASSWORD_SCRIPT, SUDO_PASSWORD_NAME, ...cmd]);
    expect(passwordHead('hunter 2')).toBe('hunter 2\nhunter 2\n');
  });
});

describe('takesPassword', () => {
  const withPassword: SshSettings = { ...ssh, escalation: { method: 'sudo', askPassword: true } };

  it('knows the wrapper over ssh and locally, and nothing else', () => {
    expect(takesPassword(sshCommand(withPassword, ['true']))).toBe(true);
    expect(takesPassword(escalate({ method: 'sudo', askPassword: true }, ['true']))).toBe(true);
    expect(takesPassword(sshCommand(ssh, ['true']))).toBe(false);
    expect(takesPassword(['sudo', '-n', '--', 'true'])).toBe(false);
    // The script as a mere argument of someone else's command is not the wrapper.
    expect(takesPassword(sshCommand({ ...ssh, endpoint: { ...ssh.endpoint, user: 'root' } }, ['echo', ...escalate({ method: 'sudo', askPassword: true }, [])]))).toBe(false);
    expect(takesPassword(['echo', 'sh', '-c', SUDO_PASSWORD_SCRIPT, SUDO_PASSWORD_NAME])).toBe(false);
  });

  it('tells a refusal by its exit status and its own line together', () => {
    expect(refusedPassword({ exitCode: PASSWORD_REFUSED_EXIT, stderr: `${PASSWORD_REFUSED_LINE}\n` })).toBe(true);
    expect(refusedPassword({ exitCode: PASSWORD_REFUSED_EXIT, stderr: 'something else\n' })).toBe(false);
    expect(refusedPassword({ exitCode: 1, stderr: `${PASSWORD_REFUSED_LINE}\n` })).toBe(false);
  });
});

/**
 * The wrapper run for real by sh, with a `sudo` on PATH that keeps sudo's contract for the words
 * the wrapper uses: `-n` fails where a password is needed; `-S` reads the password as one line
 * from stdin (and, refused, tries the next line, as sudo's passwd_tries does); then it runs the
 * command with the rest of stdin. The lab runs the real sudo (test/lab/escalation.test.ts).
 */
describe('the password wrapper`s stdin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-sudo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sudo = join(dir, 'sudo');
  writeFileSync(
    sudo,
    `#!/bin/sh
# argv: what the wrapper passes; FAKE_SUDO_POLICY=nopasswd|password, FAKE_SUDO_PASSWORD.
printf '%s\\n' "$*" >>"${dir}/calls"
stdin=0; n=0
while [ $# -gt 0 ]; do
  case "$1" in -n) n=1 ;; -S) stdin=1 ;; -k) ;; -p) shift ;; --) shift; break ;; *) break ;; esac
  shift
done
if [ "$FAKE_SUDO_POLICY" = password ]; then
  [ $n = 1 ] && { echo 'sudo: a password is required' >&2; exit 1; }
  tries=0
  while :; do
    IFS= read -r given || { echo 'sudo: no password was provided' >&2; exit 1; }
    [ "$given" = "$FAKE_SUDO_PASSWORD" ] && break
    tries=$((tries + 1)); [ $tries -ge 3 ] && { echo 'sudo: 3 incorrect password attempts' >&2; exit 1; }
  done
fi
exec "$@"
`,
  );
  chmodSync(sudo, 0o755);
  const run = (policy: string, stdin: string) =>
    spawnSync('sh', ['-c', SUDO_PASSWORD_SCRIPT, SUDO_PASSWORD_NAME, 'sh', '-c', 'cat; echo "[$1]"', 'cmd', 'arg w'], {
      input: stdin,
      encoding: 'utf8',
      env: { PATH: `${dir}:/usr/bin:/bin`, FAKE_SUDO_POLICY: policy, FAKE_SUDO_PASSWORD: 'right one' },
    });

  it('sudo takes the second copy, the command all of its own input and nothing of the password', () => {
    const result = run('password', `${passwordHead('right one')}line 1\n\0binary\n`);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('line 1\n\0binary\n[arg w]\n');
  });

  it('where sudo asks for no password (NOPASSWD), the wrapper drops the second copy itself', () => {
    const result = run('nopasswd', `${passwordHead('right one')}input\n`);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('input\n[arg w]\n');
  });

  it('a wrong password fails at once with its own line, runs nothing and reads none of the command`s input as tries', () => {
    writeFileSync(join(dir, 'calls'), '');
    const result = run('password', `${passwordHead('wrong')}right one\nright one\n`);
    expect(result.status).toBe(PASSWORD_REFUSED_EXIT);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`${PASSWORD_REFUSED_LINE}\n`);
    expect(refusedPassword({ exitCode: result.status, stderr: result.stderr })).toBe(true);
    // Checked once, on a pipe of its own: never on the stdin that carries the command's input.
    expect(readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n')).toEqual(['-n -k true', "-S -k -p  true"]);
  });

  it('no password on stdin at all is a refusal too, not a hang', () => {
    const result = run('password', '');
    expect(result.status).toBe(PASSWORD_REFUSED_EXIT);
    expect(result.stderr).toMatch(PASSWORD_REFUSED_LINE);
  });
});
