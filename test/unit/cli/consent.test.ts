// The bootstrap consent asked in the live tree: keys in, step lines out, one question at a time.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { consentInTree } from '../../../src/cli/consent.js';
import type { RunEvent } from '../../../src/run/index.js';

/** A stand-in terminal: a stream with isTTY and a recorded raw mode. */
function terminal() {
  const stream = new PassThrough() as unknown as NodeJS.ReadStream & PassThrough;
  const modes: boolean[] = [];
  Object.assign(stream, { isTTY: true, setRawMode: (on: boolean) => (modes.push(on), stream) });
  return { stream, modes };
}

function lines(events: RunEvent[], host: string): string[] {
  return events.flatMap((e) => (e.type === 'step-line' && e.host === host ? [e.line] : []));
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('consentInTree', () => {
  it('is a yes only for the host name and Enter, showing the question and what is typed', async () => {
    const { stream, modes } = terminal();
    const events: RunEvent[] = [];
    const ask = consentInTree((e) => events.push(e), new AbortController().signal, stream);
    const answer = ask('vps', 'root@203.0.113.10');
    await tick();
    stream.write('vpz');
    stream.write('\x7f'); // backspace
    stream.write('s\r');
    expect(await answer).toBe(true);
    const shown = lines(events, 'vps');
    expect(shown[0]).toBe('WIPES DISKS of root@203.0.113.10: type vps + Enter to confirm › ');
    expect(shown).toContain('WIPES DISKS of root@203.0.113.10: type vps + Enter to confirm › vpz');
    expect(shown).toContain('WIPES DISKS of root@203.0.113.10: type vps + Enter to confirm › vp');
    expect(events.at(-1)).toEqual({ type: 'host-note', host: 'vps', level: 'info', message: 'bootstrap confirmed at the terminal' });
    expect(modes).toEqual([true, false]);
  });

  it('is a no for anything else, for no terminal, and when interrupted while waiting', async () => {
    const { stream } = terminal();
    const events: RunEvent[] = [];
    const controller = new AbortController();
    const ask = consentInTree((e) => events.push(e), controller.signal, stream);
    const wrong = ask('vps', 'root@x');
    await tick();
    stream.write('web\r');
    expect(await wrong).toBe(false);
    expect(events.at(-1)).toEqual({ type: 'host-note', host: 'vps', level: 'warn', message: 'bootstrap not confirmed' });

    const waiting = ask('db', 'root@y');
    await tick();
    controller.abort();
    expect(await waiting).toBe(false);

    const notTty = new PassThrough() as unknown as NodeJS.ReadStream;
    expect(await consentInTree(() => undefined, new AbortController().signal, notTty)('vps', 'root@x')).toBe(false);
  });

  it('asks one host at a time: the second question waits for the first answer', async () => {
    const { stream } = terminal();
    const events: RunEvent[] = [];
    const ask = consentInTree((e) => events.push(e), new AbortController().signal, stream);
    const first = ask('a', 'root@a');
    const second = ask('b', 'root@b');
    await tick();
    expect(lines(events, 'b')).toEqual([]);
    stream.write('a\r');
    expect(await first).toBe(true);
    await tick();
    expect(lines(events, 'b')).toHaveLength(1);
    stream.write('b\r');
    expect(await second).toBe(true);
  });
});
