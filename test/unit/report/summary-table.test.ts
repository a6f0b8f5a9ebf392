// The end-of-run table and the tails of failed hosts.
import { describe, expect, it } from 'vitest';
import { alignColumns, formatSummaryTable } from '../../../src/report/index.js';
import { PACMAN, WEB1, WEB2 } from '../ui/event-script.js';

describe('formatSummaryTable', () => {
  it('aligns host, outcome, step, time and reason, then the tail of each failed host', () => {
    expect(formatSummaryTable([PACMAN, WEB1, WEB2])).toEqual([
      'HOST        OUTCOME    STEP    TIME   REASON',
      'vps-pacman  changed    verify  12.3s  switched and confirmed',
      'web-1       unchanged  deploy  1.2s   already runs the built system',
      'web-2       failed     deploy  3.1s   switch-to-configuration exited with 1',
      '',
      'web-2: failed at deploy — last 3 lines:',
      '  │ starting the following units: nginx.service',
      '  │ Job for nginx.service failed.',
      '  │ warning: the following units failed: nginx.service',
    ]);
  });

  it('shows at most the last 20 lines of a failing command', () => {
    const tail = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    const lines = formatSummaryTable([{ ...WEB2, kind: 'rolled-back', tail }]);
    const block = lines.slice(lines.indexOf('') + 1);
    expect(block[0]).toBe('web-2: rolled-back at deploy — last 20 lines:');
    expect(block.slice(1)).toEqual(tail.slice(10).map((l) => `  │ ${l}`));
  });

  it('prints what to do under a failed host, with or without a tail', () => {
    const hint = 'fix it and deploy again, or: fleet rollback web-2';
    const withTail = formatSummaryTable([{ ...WEB2, tail: ['boom'], hint }]);
    expect(withTail.slice(-3)).toEqual(['web-2: failed at deploy — last 1 line:', '  │ boom', `  hint: ${hint}`]);
    const without = formatSummaryTable([{ ...WEB2, kind: 'unreachable', tail: [], hint }]);
    expect(without.at(-1)).toBe(`web-2: unreachable at deploy — hint: ${hint}`);
  });

  it('keeps a multi-line reason on its row and prints no tail for hosts that did not fail', () => {
    const lines = formatSummaryTable([{ ...WEB1, kind: 'skipped', reason: 'no consent\nfor bootstrap', tail: ['x'] }]);
    expect(lines).toEqual([
      'HOST   OUTCOME  STEP    TIME  REASON',
      'web-1  skipped  deploy  1.2s  no consent for bootstrap',
    ]);
  });
});

describe('alignColumns', () => {
  it('pads every column but the last and trims trailing space', () => {
    expect(alignColumns([['a', 'bb', ''], ['ccc', 'd', 'e']])).toEqual(['a    bb', 'ccc  d   e']);
  });
});
