// Settling the rollback watchdog after a live activation, with a scripted exec and a fake clock.
import { describe, expect, it } from 'vitest';
import { settleWatchdog } from '../../../src/backends/index.js';
import type { ExecRequest, ExecResult } from '../../../src/exec/index.js';

const OLD = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-old';
const NEW = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-new';

function result(exitCode: number, stdout = '', stderr = ''): ExecResult {
  return { exitCode, signal: null, stdout, stderr, timedOut: false } as ExecResult;
}

/** A clock that only moves when the code sleeps; exec answers by argv[0] ('confirm' or 'probe'). */
function world(answer: (what: string, at: number) => ExecResult) {
  let clock = 1_000_000;
  const calls: string[] = [];
  const slept: number[] = [];
  return {
    calls,
    slept,
    now: () => clock,
    sleep: async (ms: number) => {
      slept.push(ms);
      clock += ms;
    },
    exec: async (request: ExecRequest) => {
      calls.push(request.argv[0] as string);
      return answer(request.argv[0] as string, clock);
    },
  };
}

const probe = (current: string) => result(0, `nixos=yes\ncurrent=${current}\nprofile=${current}\nbooted=${OLD}\nend=ok\n`);

function settle(w: ReturnType<typeof world>, extra: { signal?: AbortSignal; onLost?: (at: string, why: string) => void } = {}) {
  return settleWatchdog({
    host: 'web-1',
    armed: { id: 'x', previous: OLD, deadline: 1_000_000 + 20_000 },
    confirmArgv: ['confirm'],
    probeArgv: ['probe'],
    exec: w.exec,
    now: w.now,
    sleep: w.sleep,
    ...extra,
  });
}

describe('settleWatchdog', () => {
  it('confirms as soon as a fresh connection answers, after failed tries', async () => {
    let tries = 0;
    const w = world(() => (++tries < 3 ? result(255, '', 'ssh: connect to host web-1 port 22: Connection refused') : result(0, 'confirmed\n')));
    expect(await settle(w)).toMatchObject({ kind: 'confirmed' });
    expect(w.calls).toEqual(['confirm', 'confirm', 'confirm']);
    // A refused connection right after sshd restarted is tried again at once, not 2 s later.
    expect(w.slept).toEqual([50, 100]);
  });

  it('backs off up to 2 s between tries, and the last wait ends 2 s before the deadline', async () => {
    const w = world((what, at) => (what === 'confirm' ? result(255, '', 'ssh: connect to host web-1 port 22: Connection refused') : at > 1_020_000 ? probe(OLD) : result(255)));
    await settle(w);
    const confirms = w.calls.filter((c) => c === 'confirm').length;
    const between = w.slept.slice(0, confirms);
    expect(between.slice(0, 7)).toEqual([50, 100, 200, 400, 800, 1600, 2000]);
    expect(Math.max(...between)).toBe(2000);
    // 18 s of tries before the 20 s deadline: every wait fits inside it.
    expect(between.reduce((a, b) => a + b, 0)).toBe(18_000);
  });

  it('reports a watchdog that fired before the confirmation as rolled back', async () => {
    const w = world(() => result(0, `fired=${OLD}\n`));
    expect(await settle(w)).toMatchObject({ kind: 'rolled-back', reason: expect.stringContaining(OLD) });
  });

  it('when ssh stays lost: says when the target rolls back, waits past it, and checks the previous system is live', async () => {
    const lost: string[] = [];
    const w = world((what, at) => (what === 'confirm' ? result(255, '', 'ssh: connect to host web-1 port 22: Connection refused') : at > 1_020_000 ? probe(OLD) : result(255)));
    const settled = await settle(w, { onLost: (at, why) => lost.push(`${at} ${why}`) });
    expect(settled).toEqual({ kind: 'rolled-back', reason: `lost SSH after activation; the target rolled back to ${OLD}` });
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(new RegExp(`^${new Date(1_020_000).toISOString().slice(11, 19)} .*refused`));
    expect(w.calls.at(-1)).toBe('probe');
  });

  it('fails a host that came back on something other than the previous system, and gives up on one that never does', async () => {
    const other = world((what) => (what === 'confirm' ? result(255) : probe(NEW)));
    expect(await settle(other)).toMatchObject({ kind: 'failed', reason: expect.stringContaining(`now runs ${NEW}`) });
    const gone = world(() => result(255));
    expect(await settle(gone)).toMatchObject({ kind: 'unreachable', reason: expect.stringMatching(/did not come back .*nixos-rebuild switch --rollback/) });
    expect(gone.calls.filter((c) => c === 'probe')).toHaveLength(10);
  });

  it('stops trying on an interrupt and leaves the rollback to the target', async () => {
    const controller = new AbortController();
    controller.abort();
    const w = world(() => result(0, 'confirmed\n'));
    expect(await settle(w, { signal: controller.signal })).toMatchObject({ kind: 'interrupted' });
    expect(w.calls).toEqual([]);
  });
});
