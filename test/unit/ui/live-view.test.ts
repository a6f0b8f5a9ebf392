// The compact view's frame: counts, a line per running host, failures kept, never taller or wider
// than the terminal.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/plan/index.js';
import type { HostOutcome, RunEvent } from '../../../src/run/events.js';
import { applyLiveEvent, finalLines, fitLine, initialLiveState, liveFrame, type LiveState } from '../../../src/ui/index.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';

const T0 = 1_000_000;

function stateFor(count: number): LiveState {
  const names = Array.from({ length: count }, (_, i) => `web-${String(i + 1).padStart(2, '0')}`);
  const plan = buildPlan(inventory(names.map((n) => host(n))), planOptions({ rebuildFlavour: 'ng' }));
  return initialLiveState(plan, T0);
}

function play(state: LiveState, events: RunEvent[], at = T0 + 5_000): void {
  for (const e of events) applyLiveEvent(state, e, at);
}

function outcome(name: string, kind: HostOutcome['kind'], reason = ''): HostOutcome {
  return { host: name, kind, mode: 'switch', step: kind === 'failed' ? 'deploy' : 'verify', reason, tail: [], startedAt: T0, finishedAt: T0 + 9_000, steps: [] };
}

const running = (name: string, line: string): RunEvent[] => [
  { type: 'host-start', host: name },
  { type: 'step-start', host: name, step: 'deploy', title: 'deploy switch' },
  { type: 'step-line', host: name, step: 'deploy', line },
];

describe('compact live view', () => {
  it('counts done, failed, running and waiting hosts in the header', () => {
    const s = stateFor(5);
    play(s, [...running('web-01', 'a'), ...running('web-02', 'b'), ...running('web-03', 'c')]);
    play(s, [{ type: 'host-done', outcome: outcome('web-01', 'changed') }, { type: 'step-failed', host: 'web-02', step: 'deploy', reason: 'exit 1' }, { type: 'host-done', outcome: outcome('web-02', 'failed', 'exit 1') }]);
    const frame = liveFrame(s, { columns: 100, rows: 20 }, T0 + 10_000);
    expect(frame[0]).toBe('fleet  2/5 done · 1 failed · 1 running · 2 waiting  10s');
    expect(frame).toContainEqual(expect.stringMatching(/^✖ web-02 {2}FAILED at deploy: exit 1$/));
    expect(frame).toContainEqual(expect.stringMatching(/^. web-03 {2}deploy {7}5s {2}c$/));
    // Finished hosts are counted, not listed.
    expect(frame.some((l) => l.includes('web-01'))).toBe(false);
  });

  it('shows copy progress and the newest output line of the running step', () => {
    const s = stateFor(1);
    play(s, [...running('web-01', 'copying 2 paths...'), { type: 'step-progress', host: 'web-01', step: 'deploy', done: 1, total: 2, unit: 'paths' }, { type: 'step-line', host: 'web-01', step: 'deploy', line: "copying path '/nix/store/x-sw' to 'ssh://h'..." }]);
    expect(liveFrame(s, { columns: 120, rows: 10 }, T0 + 6_000)[1]).toMatch(/web-01 {2}deploy {7}1s {2}copied 1\/2 paths {2}copying path '\/nix\/store\/x-sw' to 'ssh:\/\/h'\.\.\.$/);
  });

  it('never draws more than rows - 1 lines nor a line as wide as the terminal, and counts what does not fit', () => {
    const s = stateFor(30);
    for (let i = 1; i <= 30; i++) play(s, running(`web-${String(i).padStart(2, '0')}`, `a long line of output from the tool ${'x'.repeat(200)}`));
    for (const [columns, rows] of [[40, 12], [80, 24], [20, 3], [200, 100], [10, 1]] as const) {
      const frame = liveFrame(s, { columns, rows }, T0 + 7_000);
      expect(frame.length).toBeLessThanOrEqual(Math.max(1, rows - 1));
      for (const line of frame) expect([...line].length).toBeLessThan(Math.max(2, columns));
      if (rows >= 4 && rows < 32) expect(frame.at(-1)).toMatch(new RegExp(`^… \\+${30 - (rows - 1 - 1 - 1)} more running`));
    }
    expect(liveFrame(s, { columns: 200, rows: 100 }, T0 + 7_000)).toHaveLength(31);
  });

  it('keeps failed hosts in view ahead of running ones, at least half of the room', () => {
    const s = stateFor(20);
    for (let i = 1; i <= 20; i++) play(s, running(`web-${String(i).padStart(2, '0')}`, 'working'));
    for (let i = 1; i <= 6; i++) play(s, [{ type: 'step-failed', host: `web-${String(i).padStart(2, '0')}`, step: 'deploy', reason: `reason ${i}` }]);
    const frame = liveFrame(s, { columns: 80, rows: 12 }, T0 + 8_000);
    expect(frame).toHaveLength(11);
    expect(frame[0]).toContain('0/20 done · 6 failed · 14 running');
    expect(frame.slice(1, 5)).toEqual([
      '✖ web-01  FAILED at deploy: reason 1',
      '✖ web-02  FAILED at deploy: reason 2',
      '✖ web-03  FAILED at deploy: reason 3',
      '✖ web-04  FAILED at deploy: reason 4',
    ]);
    expect(frame[5]).toBe('✖ +2 more failed');
    expect(frame.at(-1)).toBe('… +10 more running');
  });

  it('cuts a line at the width and takes out control characters', () => {
    expect(fitLine('abcdef', 4)).toBe('abc…');
    expect(fitLine('abc', 4)).toBe('abc');
    expect(fitLine('a\rb\u001b[31mc\u001b[0m\td', 10)).toBe('a bc d');
  });

  it('counts the columns a terminal gives a character: two for CJK and emoji, none for a combining mark', () => {
    // 日本語テキスト is 14 columns: cut to 6, five columns of it and the ellipsis.
    expect(fitLine('日本語テキスト', 6)).toBe('日本…');
    expect(fitLine('ok 👍👍👍', 6)).toBe('ok 👍…');
    // e + U+0301 is one column: the whole word fits in 5.
    expect(fitLine('cafe\u0301s', 5)).toBe('cafe\u0301s');
    expect(fitLine('日本', 4)).toBe('日本');
  });

  it("keeps Nix's busy-database retry notes out of the build line and a host's line", () => {
    const s = stateFor(1);
    play(s, [{ type: 'build-start', hosts: ['web-01'], chunk: 1, chunks: 1 }, { type: 'build-line', hosts: ['web-01'], line: 'building the system' }], T0);
    play(s, [{ type: 'build-line', hosts: ['web-01'], line: "warning: error: SQLite database '/nix/var/nix/db/db.sqlite' is busy" }], T0);
    expect(s.build.lastLine).toBe('building the system');
    play(s, [...running('web-01', 'copying path a'), { type: 'step-line', host: 'web-01', step: 'deploy', line: "warning: SQLite database '/nix/var/nix/db/db.sqlite' is busy" }]);
    expect(s.hosts.get('web-01')!.lastLine).toBe('copying path a');
    expect(liveFrame(s, { columns: 200, rows: 10 }, T0 + 6_000).join('\n')).not.toMatch(/SQLite/);
  });

  it('leaves the counts, the build, each failure and the notes on the final screen', () => {
    const s = stateFor(2);
    play(s, [{ type: 'build-start', hosts: ['web-01', 'web-02'], chunk: 1, chunks: 1 }], T0);
    play(s, [
      { type: 'build-done', host: 'web-01', output: 'toplevel', storePath: '/nix/store/a-web-01' },
      { type: 'build-done', host: 'web-02', output: 'toplevel', storePath: '/nix/store/a-web-02' },
    ], T0 + 2_000);
    play(s, [...running('web-01', 'x'), { type: 'host-note', host: 'web-01', level: 'warn', message: 'accepted new host key SHA256:abc' }, { type: 'host-done', outcome: outcome('web-01', 'failed', 'exit 4') }]);
    expect(finalLines(s, T0 + 12_000)).toEqual([
      'fleet  1/2 done · 1 failed · 0 running · 1 waiting  12.0s',
      'build  2/2 built  2.0s',
      '✖ web-01  FAILED at deploy: exit 4',
      'web-01: ! accepted new host key SHA256:abc',
    ]);
  });

  it('says how many hosts the evaluation cache answered, in the build line and on the final screen', () => {
    const cached = (h: string) => ({ host: h, outputs: { toplevel: { drv: `/nix/store/x-${h}.drv`, out: `/nix/store/x-${h}` } } });
    const evalCache = { state: { use: true as const, dir: '/cache', key: { flake: 'f', nix: '2.8', nixCommand: ['nix'], settings: {}, expression: 'e' } }, hits: [cached('web-02'), cached('web-03')] };
    const plan = buildPlan(inventory(['web-01', 'web-02', 'web-03'].map((n) => host(n))), { ...planOptions({ rebuildFlavour: 'ng' }), evalCache });
    const s = initialLiveState(plan, T0);
    play(s, [{ type: 'build-cached', hosts: ['web-02', 'web-03'], evaluating: 1 }, { type: 'build-start', hosts: ['web-01'], chunk: 1, chunks: 1 }], T0);
    expect(liveFrame(s, { columns: 120, rows: 10 }, T0 + 1_000)[1]).toMatch(/^. build {2}0\/1 built {2}1s {2}2 from the evaluation cache {2}web-01$/);
    play(s, [{ type: 'build-done', host: 'web-01', output: 'toplevel', storePath: '/nix/store/a-web-01' }], T0 + 2_000);
    expect(finalLines(s, T0 + 3_000).slice(1, 3)).toEqual(['build  1/1 built  2.0s', 'eval   1 host to evaluate, 2 hosts from the evaluation cache (web-02, web-03)']);
  });
});
