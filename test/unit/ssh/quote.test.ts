import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteRemoteCommand, quoteShellWord } from '../../../src/ssh/index.js';

const HOSTILE = [
  'plain',
  'with space',
  "it's",
  '"double"',
  '$(touch /tmp/fleet-pwned)',
  '`id`',
  'a\nb',
  '; rm -rf /',
  '$HOME',
  '\\back\\slash',
  '',
  '*',
  '-oProxyCommand=evil',
  "'''",
  'tab\there',
  '!bang',
];

/** Runs the quoted line in a real POSIX shell and returns the words it saw. */
function wordsSeenByShell(line: string): string[] {
  const out = execFileSync('sh', ['-c', `for w in ${line}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('quoteShellWord', () => {
  it.each(HOSTILE)('round-trips %j through sh unchanged', (word) => {
    expect(wordsSeenByShell(quoteShellWord(word))).toEqual([word]);
  });

  it('leaves plainly safe words bare', () => {
    expect(quoteShellWord('/nix/store/abc-x')).toBe('/nix/store/abc-x');
    expect(quoteShellWord('a b')).toBe("'a b'");
  });
});

describe('quoteRemoteCommand', () => {
  it('keeps every hostile word one argument, and runs none of them', () => {
    const line = quoteRemoteCommand(HOSTILE);
    expect(wordsSeenByShell(line)).toEqual(HOSTILE);
    const out = execFileSync('sh', ['-c', `printf '%s\\n' ${quoteRemoteCommand(['$(echo pwned)', '`echo pwned`'])}`], { encoding: 'utf8' });
    expect(out).toBe('$(echo pwned)\n`echo pwned`\n');
  });

  it('refuses an empty command', () => {
    expect(() => quoteRemoteCommand([])).toThrow(/empty/);
  });
});
