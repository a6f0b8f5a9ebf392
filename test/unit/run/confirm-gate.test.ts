// The --confirm gate: one question once every host has arrived or ended; waiting hosts hold no place.
import { describe, expect, it } from 'vitest';
import { ConfirmGate, forEachHost, type GateArrival } from '../../../src/run/index.js';

const same = (system: string) => ({ kind: 'same' as const, system });

describe('ConfirmGate', () => {
  it('asks once, after the last host arrived or ended, with the arrivals in plan order', async () => {
    const asked: GateArrival[][] = [];
    const gate = new ConfirmGate(['a', 'b', 'c'], async (arrivals) => {
      asked.push(arrivals);
      return true;
    });
    const b = gate.arrive('b', same('/b'));
    const a = gate.arrive('a', same('/a'));
    await Promise.resolve();
    expect(asked).toEqual([]);
    gate.leave('c'); // its build failed
    expect(await Promise.all([a, b])).toEqual([true, true]);
    expect(asked).toEqual([[{ host: 'a', diff: same('/a') }, { host: 'b', diff: same('/b') }]]);
  });

  it('never asks when no host arrives; a question that fails answers no', async () => {
    let asked = 0;
    const none = new ConfirmGate(['a'], async () => {
      asked += 1;
      return true;
    });
    none.leave('a');
    expect(asked).toBe(0);
    const failing = new ConfirmGate(['a'], async () => {
      throw new Error('terminal gone');
    });
    expect(await failing.arrive('a', same('/a'))).toBe(false);
  });
});

describe('forEachHost places', () => {
  it('a host waiting outside its place lets the next host start (parallel 1: no deadlock at the gate)', async () => {
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const results = await forEachHost(
      [{ name: 'a' }, { name: 'b' }],
      async (host, place) => {
        started.push(host.name);
        if (host.name === 'a') await place.outside(gate);
        else release();
        return host.name;
      },
      { parallel: 1, onSkipped: (h) => h, onError: (h) => h.name },
    );
    expect(results).toEqual(['a', 'b']);
    expect(started).toEqual(['a', 'b']);
  });

  it('still runs at most `parallel` hosts at once', async () => {
    let running = 0;
    let most = 0;
    await forEachHost(
      [1, 2, 3, 4, 5].map((n) => ({ name: `h${n}` })),
      async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running -= 1;
      },
      { parallel: 2, onSkipped: () => undefined, onError: () => undefined },
    );
    expect(most).toBe(2);
  });
});
