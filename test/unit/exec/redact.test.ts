// Redaction of secret values (kept as bytes) in what processes print: whole values, their base64,
// and multi-line values echoed back line by line; and base64 without a string in between.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64Bytes } from '../../../src/bytes.js';
import { execProcess, MIN_MASKED_BYTES, redactBytes, redactionPatterns, redactText } from '../../../src/exec/index.js';
import { pushKeysInput, pushSecretsInput } from '../../../src/plan/index.js';

const KEY = Buffer.from(
  ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW', 'QyNTUxOQAAACDx5NpaxNnAAAAA', '-----END OPENSSH PRIVATE KEY-----', ''].join('\n'),
);

describe('base64Bytes', () => {
  it('is byte for byte what Buffer.toString("base64") gives, for every length', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = randomBytes(length);
      expect(base64Bytes(bytes).toString(), `length ${length}`).toBe(bytes.toString('base64'));
    }
  });

  it('builds the upload stdin as bytes equal to the records it always was', () => {
    const content = Buffer.from("it's $(rm -rf /)\n\0end");
    expect(pushSecretsInput([{ index: 2, content }, { index: 0, content: Buffer.from('x') }])).toEqual(Buffer.from(`2 ${content.toString('base64')}\n0 eA==\n`));
    expect(pushKeysInput([{ name: 'ssh_host_ed25519_key', mode: '0600', content: KEY }])).toEqual(Buffer.from(`ssh_host_ed25519_key 0600 ${KEY.toString('base64')}\n`));
  });
});

describe('redaction', () => {
  it('masks a multi-line value in whole output and in each of its lines, and its base64', () => {
    const { patterns, dispose } = redactionPatterns([KEY]);
    const echoed = `using key:\n${KEY.toString()}done\n`;
    expect(redactBytes(Buffer.from(echoed), patterns).toString()).toBe('using key:\n***done\n');
    // Line by line, as onLine sees them: every line of the key is masked.
    const lines = echoed.split('\n').map((line) => redactText(line, patterns));
    expect(lines).toEqual(['using key:', '***', '***', '***', '***', 'done', '']);
    expect(redactText(`sent ${KEY.toString('base64')} ok`, patterns)).toBe('sent *** ok');
    const base64 = patterns.find((p) => p.toString() === KEY.toString('base64'))!;
    dispose();
    // The base64 copy made for redaction is overwritten; the value itself stays its owner's.
    expect(base64.every((b) => b === 0)).toBe(true);
    expect(KEY.toString()).toContain('BEGIN OPENSSH');
  });

  it(`leaves out parts under ${MIN_MASKED_BYTES} bytes (they would mask letters everywhere), and a line without a secret is the same string`, () => {
    const { patterns } = redactionPatterns([Buffer.from('abc'), Buffer.from('long-secret\nab\n')]);
    expect(patterns.map(String)).not.toContain('abc');
    expect(patterns.map(String)).not.toContain('ab');
    const line = 'nothing secret here: abc';
    expect(redactText(line, patterns)).toBe(line);
    expect(redactText('x long-secret y', patterns)).toBe('x *** y');
  });

  it('execProcess masks a multi-line secret a tool echoes back, in its lines and its result', async () => {
    const lines: string[] = [];
    const run = await execProcess({ argv: ['sh', '-c', 'cat; cat >&2 <<EOF\nerror near\nEOF'], stdin: KEY, secrets: [KEY], onLine: (line, stream) => lines.push(`${stream}:${line}`) });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('***');
    expect(lines.filter((l) => l.startsWith('stdout:'))).toEqual(['stdout:***', 'stdout:***', 'stdout:***', 'stdout:***']);
    expect(lines).toContain('stderr:error near');
    expect(JSON.stringify({ run, lines })).not.toMatch(/OPENSSH|b3BlbnNz|QyNTUx/);
  });

  it('binaryStdout keeps a secret as bytes only: stdout is not decoded to a string', async () => {
    const run = await execProcess({ argv: ['printf', 'pass\\000word\\n'], binaryStdout: true });
    expect(run.stdout).toBe('');
    expect(run.stdoutBytes).toEqual(Buffer.from('pass\0word\n'));
  });
});
