// The GitHub step summary Markdown and appending it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendGithubSummary, formatGithubSummary } from '../../../src/report/index.js';
import { PACMAN, PACMAN_PATH, WEB1, WEB2 } from '../ui/event-script.js';

describe('formatGithubSummary', () => {
  it('writes a headline, a table with a plain-word status column and the failed tails', () => {
    const md = formatGithubSummary([PACMAN, WEB1, WEB2]);
    const lines = md.split('\n');
    expect(lines.slice(0, 7)).toEqual([
      '### fleet apply: 3 hosts — 1 changed, 1 unchanged, 1 failed',
      '',
      '| Host | Status | Step | Time | Details |',
      '| --- | --- | --- | --- | --- |',
      `| vps-pacman | changed | verify | 12.3s | switched and confirmed \`${PACMAN_PATH}\` |`,
      `| web-1 | unchanged | deploy | 1.2s | already runs the built system \`${WEB1.storePath}\` |`,
      '| web-2 | failed | deploy | 3.1s | switch-to-configuration exited with 1 |',
    ]);
    expect(md).toContain('<details><summary>web-2: failed at deploy</summary>');
    expect(md).toContain('```text\nstarting the following units: nginx.service\n');
    expect(md.endsWith('\n')).toBe(true);
    // No emoji anywhere (status is words).
    expect(md).not.toMatch(/\p{Extended_Pictographic}/u);
  });

  it('escapes table cells and fences tails that contain backticks', () => {
    const md = formatGithubSummary([{ ...WEB2, host: 'a|b', reason: 'x | y\nz', tail: ['```', 'end'] }], {
      title: 'fleet apply (prod)',
      interrupted: true,
    });
    expect(md).toContain('| a\\|b | failed | deploy | 3.1s | x \\| y z |');
    expect(md).toContain('**Interrupted**');
    expect(md).toContain('````text\n```\nend\n````');
    expect(md.startsWith('### fleet apply (prod): 1 host — 1 failed')).toBe(true);
  });
});

describe('formatGithubSummary with diffs', () => {
  it('puts each host\'s diff in a collapsed block', () => {
    const diff = {
      kind: 'changes' as const,
      from: '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-web-1-r1',
      to: '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-web-1-r2',
      changed: [{ name: 'lab-tool', from: ['1.0'], to: ['1.1'], sizeDelta: 8192 }],
      added: [],
      removed: [],
      closure: { fromPaths: 3, toPaths: 3, pathsAdded: 2, pathsRemoved: 2, fromBytes: 10240, toBytes: 18432 },
    };
    const md = formatGithubSummary([{ ...PACMAN, diff }, { ...WEB1, diff: { kind: 'same', system: WEB1.storePath ?? '' } }], { title: 'fleet diff' });
    expect(md).toContain('<details><summary>vps-pacman: 1 package changed; closure +8.0 KiB</summary>');
    expect(md).toMatch(/```text\nvps-pacman: \/nix\/store\/…-nixos-system-web-1-r1 → \/nix\/store\/…-nixos-system-web-1-r2\n  changed  lab-tool  1\.0 → 1\.1  \+8\.0 KiB\n  closure  3 → 3 paths/);
    expect(md).toContain('<details><summary>web-1: no changes</summary>');
  });
});

describe('appendGithubSummary', () => {
  it('appends, adding a final newline when missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleet-gh-'));
    try {
      const file = join(dir, 'summary.md');
      await appendGithubSummary(file, 'one');
      await appendGithubSummary(file, 'two\n');
      expect(await readFile(file, 'utf8')).toBe('one\ntwo\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
