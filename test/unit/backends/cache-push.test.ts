// cache.push over a fake process port: once per system, one push at a time taking every system
// built meanwhile, signed first when a key is given; a failure is an answer, not a throw.
import { describe, expect, it } from 'vitest';
import { CachePusher } from '../../../src/backends/index.js';
import type { ExecRequest, ExecResult } from '../../../src/exec/index.js';
import { cachePushCommand, signClosureCommand } from '../../../src/plan/index.js';

const commands = { nix: ['nix'], nixosRebuild: ['nixos-rebuild'], nixosAnywhere: ['nixos-anywhere'], nixosInstall: ['nixos-install'] };
const URL = 's3://fleet-cache?region=eu-west-1';
const ok = (): ExecResult => ({ exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false });

/** A fake nix whose pushes finish only when the test says (one release per push). */
function fakeNix(answer: (argv: string[]) => ExecResult = ok) {
  const calls: string[][] = [];
  const releases: (() => void)[] = [];
  return {
    calls,
    release: () => releases.shift()?.(),
    exec: async (request: ExecRequest): Promise<ExecResult> => {
      calls.push([...request.argv]);
      if (request.argv.includes('copy')) await new Promise<void>((resolve) => releases.push(resolve));
      return answer([...request.argv]);
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CachePusher', () => {
  it('pushes a system once however many hosts ask, and batches the systems built while a push runs', async () => {
    const nix = fakeNix();
    const pusher = new CachePusher({ url: URL, push: cachePushCommand(commands, URL) }, { exec: nix.exec, idleTimeoutMs: 1000 });
    const a1 = pusher.push('/nix/store/a');
    const a2 = pusher.push('/nix/store/a');
    await tick();
    const b = pusher.push('/nix/store/b');
    const c = pusher.push('/nix/store/c');
    await tick();
    expect(nix.calls).toEqual([['nix', '--extra-experimental-features', 'nix-command flakes', 'copy', '--to', URL, '/nix/store/a']]);
    nix.release();
    expect(await a1).toEqual({ kind: 'pushed' });
    expect(await a2).toEqual({ kind: 'pushed' });
    await tick();
    expect(nix.calls[1]?.slice(-2)).toEqual(['/nix/store/b', '/nix/store/c']);
    nix.release();
    expect(await Promise.all([b, c])).toEqual([{ kind: 'pushed' }, { kind: 'pushed' }]);
    // Asked again after its push: nothing runs again.
    expect(await pusher.push('/nix/store/b')).toEqual({ kind: 'pushed' });
    expect(nix.calls).toHaveLength(2);
  });

  it('signs with the key before it pushes; a failed signature or push is a failed result with nix\'s error', async () => {
    const signed = fakeNix();
    const pusher = new CachePusher(
      { url: URL, sign: signClosureCommand(commands, '/keys/cache.sec'), push: cachePushCommand(commands, URL) },
      { exec: signed.exec, idleTimeoutMs: 1000 },
    );
    const done = pusher.push('/nix/store/a');
    await tick();
    signed.release();
    expect(await done).toEqual({ kind: 'pushed' });
    expect(signed.calls[0]).toEqual(['nix', '--extra-experimental-features', 'nix-command flakes', 'store', 'sign', '--key-file', '/keys/cache.sec', '--recursive', '/nix/store/a']);
    expect(signed.calls[1]?.[3]).toBe('copy');

    const failing = fakeNix((argv) => (argv.includes('copy') ? { ...ok(), exitCode: 1, stderr: "warning: retrying\nerror: cannot connect to 's3://fleet-cache'\n" } : ok()));
    const broken = new CachePusher({ url: URL, push: cachePushCommand(commands, URL) }, { exec: failing.exec, idleTimeoutMs: 1000 });
    const result = broken.push('/nix/store/a');
    await tick();
    failing.release();
    expect(await result).toEqual({ kind: 'failed', reason: "error: cannot connect to 's3://fleet-cache'" });

    const unsigned = fakeNix((argv) => (argv.includes('sign') ? { ...ok(), exitCode: 1, stderr: 'error: opening file /keys/cache.sec: No such file\n' } : ok()));
    const noKey = new CachePusher({ url: URL, sign: signClosureCommand(commands, '/keys/cache.sec'), push: cachePushCommand(commands, URL) }, { exec: unsigned.exec, idleTimeoutMs: 1000 });
    expect(await noKey.push('/nix/store/a')).toEqual({ kind: 'failed', reason: 'signing failed: error: opening file /keys/cache.sec: No such file' });
    // Nothing unsigned went to the cache.
    expect(unsigned.calls.some((c) => c.includes('copy'))).toBe(false);
  });
});
