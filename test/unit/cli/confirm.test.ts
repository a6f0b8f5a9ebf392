// apply --confirm at a terminal: usage error without one, the question, the answer, the view set aside.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { confirmAtTerminal, confirmQuestion, isYes, requireTerminalForConfirm, SwitchableReporter } from '../../../src/cli/confirm.js';
import type { RunEvent } from '../../../src/run/index.js';

const CHANGES = {
  kind: 'changes' as const,
  from: '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-web1-r1',
  to: '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-web1-r2',
  changed: [{ name: 'lab-tool', from: ['1.0'], to: ['1.1'], sizeDelta: 8192 }],
  added: [],
  removed: [],
  closure: { fromPaths: 3, toPaths: 3, pathsAdded: 2, pathsRemoved: 2, fromBytes: 10240, toBytes: 18432 },
};

/** Lets pending callbacks run until `done` holds (no clock involved). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setImmediate(r));
}

function terminal() {
  const stdin = new PassThrough() as unknown as NodeJS.ReadStream & PassThrough;
  let written = '';
  const out = new PassThrough();
  out.on('data', (d: Buffer) => (written += d.toString()));
  return { stdin, out, written: () => written };
}

describe('--confirm', () => {
  it('without a terminal on stdin is a usage error, never a silent yes', () => {
    expect(() => requireTerminalForConfirm({ isTTY: false })).toThrow(UsageError);
    expect(() => requireTerminalForConfirm({})).toThrow(/stdin is not a terminal/);
    expect(() => requireTerminalForConfirm({ isTTY: true })).not.toThrow();
  });

  it.each([
    ['y', true],
    ['Yes', true],
    [' y ', true],
    ['', false],
    ['n', false],
    ['yep', false],
  ])('answer %j is %s', (answer, yes) => {
    expect(isYes(answer)).toBe(yes);
  });

  it('shows every diff, asks about the hosts that change, and takes the answer from the terminal', async () => {
    const t = terminal();
    const calls: string[] = [];
    const ask = confirmAtTerminal({
      out: t.out,
      stdin: t.stdin,
      signal: new AbortController().signal,
      force: false,
      before: async () => void calls.push('before'),
      after: (yes) => void calls.push(`after ${yes}`),
    });
    const answer = ask([
      { host: 'web1', diff: CHANGES },
      { host: 'db1', diff: { kind: 'same', system: '/nix/store/cccccccccccccccccccccccccccccccc-nixos-system-db1' } },
    ]);
    await until(() => t.written().includes('[y/N]'));
    expect(t.written()).toContain('web1: /nix/store/…-nixos-system-web1-r1 → /nix/store/…-nixos-system-web1-r2');
    expect(t.written()).toMatch(/changed +lab-tool +1\.0 → 1\.1 +\+8\.0 KiB/);
    expect(t.written()).toContain('db1: no changes');
    expect(t.written().endsWith(confirmQuestion(1))).toBe(true);
    expect(confirmQuestion(8)).toBe('apply to 8 hosts? [y/N] ');
    t.stdin.write('y\n');
    expect(await answer).toBe(true);
    expect(calls).toEqual(['before', 'after true']);
  });

  it('an interrupt or the end of input while it waits answers no; nothing to change asks nothing', async () => {
    const t = terminal();
    const controller = new AbortController();
    const ask = confirmAtTerminal({ out: t.out, stdin: t.stdin, signal: controller.signal, force: false });
    const answer = ask([{ host: 'web1', diff: CHANGES }]);
    await until(() => t.written().includes('[y/N]'));
    controller.abort();
    expect(await answer).toBe(false);

    const eof = terminal();
    const closed = confirmAtTerminal({ out: eof.out, stdin: eof.stdin, signal: new AbortController().signal, force: false })([{ host: 'web1', diff: CHANGES }]);
    eof.stdin.end();
    expect(await closed).toBe(false);

    const quiet = terminal();
    const nothing = confirmAtTerminal({ out: quiet.out, stdin: quiet.stdin, signal: new AbortController().signal, force: false });
    expect(await nothing([{ host: 'db1', diff: { kind: 'same', system: '/nix/store/x' } }])).toBe(true);
    expect(quiet.written()).toBe('');
  });

  it('the view set aside holds events and hands them to the next one', async () => {
    const first: RunEvent[] = [];
    const second: RunEvent[] = [];
    let closed = 0;
    const view = new SwitchableReporter({ emit: (e) => first.push(e), close: async () => void (closed += 1) });
    view.emit({ type: 'host-start', host: 'a' });
    await view.setAside();
    view.emit({ type: 'host-start', host: 'b' });
    view.replace({ emit: (e) => second.push(e), close: async () => undefined });
    view.emit({ type: 'host-start', host: 'c' });
    expect(closed).toBe(1);
    expect(first.map((e) => (e.type === 'host-start' ? e.host : ''))).toEqual(['a']);
    expect(second.map((e) => (e.type === 'host-start' ? e.host : ''))).toEqual(['b', 'c']);
  });
});
