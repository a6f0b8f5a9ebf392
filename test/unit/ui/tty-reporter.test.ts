// The listr2 tree fed a scripted run on a fake terminal: collapsed lines, failures, isolation.
import { describe, expect, it } from 'vitest';
import type { HostOutcome } from '../../../src/run/events.js';
import { collapsedHostLine, createReporter } from '../../../src/ui/index.js';
import { PACMAN, SCRIPT, WEB1, WEB2, fakeStream, scriptPlan, settle } from './event-script.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** What is left on screen: the last frame, written after the renderer's final clear. */
function finalFrame(chunks: string[]): string[] {
  let last = -1;
  chunks.forEach((c, i) => {
    if (c.includes('\u001b[G') || c.includes('\u001b[2K')) last = i;
  });
  return chunks
    .slice(last + 1)
    .join('')
    .replace(ANSI, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);
}

async function runScript(isTTY = true, pause = true) {
  const out = fakeStream(isTTY);
  const reporter = await createReporter({ mode: 'tty', stream: out.stream, plan: scriptPlan(), color: false, verbose: true });
  for (const phase of SCRIPT) {
    for (const event of phase) reporter.emit(event);
    if (pause) await settle();
  }
  await reporter.close();
  return out;
}

describe('collapsedHostLine', () => {
  it.each<[HostOutcome, string]>([
    [PACMAN, 'vps-pacman  deployed switch  /nix/store/…-nixos-system-vps-pacman  12.3s'],
    [WEB1, 'web-1  unchanged  /nix/store/…-nixos-system-web-1  1.2s'],
    [WEB2, 'web-2  FAILED at deploy: switch-to-configuration exited with 1  3.1s'],
    [{ ...WEB2, kind: 'rolled-back', reason: 'lost ssh after activation' }, 'web-2  rolled back: lost ssh after activation  3.1s'],
    [{ ...WEB1, kind: 'skipped', reason: 'fail-fast' }, 'web-1  skipped: fail-fast  1.2s'],
  ])('%#', (outcome, line) => {
    expect(collapsedHostLine(outcome)).toBe(line);
  });
});

describe('tty renderer', () => {
  it('collapses finished hosts to one line each and keeps the failing step in view', async () => {
    const out = await runScript();
    expect(finalFrame(out.chunks)).toEqual([
      expect.stringMatching(/^✔ build {2}3 hosts {2}\d+\.\ds$/),
      '✔ vps-pacman  deployed switch  /nix/store/…-nixos-system-vps-pacman  12.3s',
      '  › ! accepted new host key SHA256:abc (trust on first use)',
      '✔ web-1  unchanged  /nix/store/…-nixos-system-web-1  1.2s',
      '✖ web-2  FAILED at deploy: switch-to-configuration exited with 1  3.1s',
      expect.stringMatching(/^ {2}✔ probe: NixOS 24\.11 {2}\d+\.\ds$/),
      '  ✖ deploy switch: switch-to-configuration exited with 1',
    ]);
  });

  it('lets other hosts finish after one host fails', async () => {
    const out = fakeStream(true);
    const reporter = await createReporter({ mode: 'tty', stream: out.stream, plan: scriptPlan(), color: false, verbose: true });
    const [build, start, fail, rest] = SCRIPT;
    for (const event of [...build!, ...start!, ...fail!]) reporter.emit(event);
    // web-2 has failed and been drawn as failed; the others are still running.
    await expect.poll(() => out.text().replace(ANSI, ''), { timeout: 5_000, interval: 20 }).toContain('web-2  FAILED at deploy');
    expect(out.text().replace(ANSI, '')).not.toContain('vps-pacman  deployed switch');
    for (const event of rest!) reporter.emit(event);
    await reporter.close();
    const frame = finalFrame(out.chunks);
    expect(frame).toContain('✔ vps-pacman  deployed switch  /nix/store/…-nixos-system-vps-pacman  12.3s');
    expect(frame).toContain('✔ web-1  unchanged  /nix/store/…-nixos-system-web-1  1.2s');
  });

  it('shows the running step with the last line of its output', async () => {
    const out = fakeStream(true);
    const reporter = await createReporter({ mode: 'tty', stream: out.stream, plan: scriptPlan(), color: false, verbose: true });
    for (const event of [...SCRIPT[0]!, ...SCRIPT[1]!]) reporter.emit(event);
    // Output lines reach the screen on the next tick (100 ms), in the next frame (50 ms).
    await expect.poll(() => out.text().replace(ANSI, ''), { timeout: 5_000, interval: 20 }).toContain('› activating the configuration...');
    const text = out.text().replace(ANSI, '');
    expect(text).toMatch(/deploy switch/);
    expect(text).toContain('› activating the configuration...');
    expect(text).toContain('↓ bootstrap: skipped — already NixOS, not bootstrapping');
    for (const event of [...SCRIPT[2]!, ...SCRIPT[3]!]) reporter.emit(event);
    await reporter.close();
  });

  it('draws a flood of output lines a few times a second, not once per line', async () => {
    const out = fakeStream(true);
    const reporter = await createReporter({ mode: 'tty', stream: out.stream, plan: scriptPlan(), color: false, verbose: true });
    for (const event of [...SCRIPT[0]!, ...SCRIPT[1]!]) reporter.emit(event);
    await expect.poll(() => out.text(), { timeout: 5_000, interval: 20 }).toContain('› activating the configuration...');
    const before = out.chunks.length;
    for (let i = 0; i < 2000; i++) {
      reporter.emit({ type: 'step-line', host: 'vps-pacman', step: 'deploy', line: `copying path ${i}` });
    }
    await settle(400);
    expect(out.chunks.length - before).toBeLessThan(40);
    await expect.poll(() => out.text(), { timeout: 5_000, interval: 20 }).toContain('› copying path 1999');
    for (const event of [...SCRIPT[2]!, ...SCRIPT[3]!]) reporter.emit(event);
    await reporter.close();
  });

  it('works the same when every event arrives before listr2 has started', async () => {
    const out = await runScript(true, false);
    const frame = finalFrame(out.chunks);
    expect(frame).toContain('✔ vps-pacman  deployed switch  /nix/store/…-nixos-system-vps-pacman  12.3s');
    expect(frame).toContain('✖ web-2  FAILED at deploy: switch-to-configuration exited with 1  3.1s');
  });

  it('still behaves on a stream that is not a terminal', async () => {
    const out = await runScript(false);
    expect(finalFrame(out.chunks)).toContain('✔ web-1  unchanged  /nix/store/…-nixos-system-web-1  1.2s');
  });

  it('draws a failed build, skipped hosts and the interrupt notice', async () => {
    const out = fakeStream(true);
    const reporter = await createReporter({ mode: 'tty', stream: out.stream, plan: scriptPlan(), color: false, verbose: true });
    reporter.emit({ type: 'build-start', hosts: ['vps-pacman', 'web-1', 'web-2'], chunk: 1, chunks: 1 });
    reporter.emit({ type: 'build-failed', host: 'web-2', reason: 'attribute missing', tail: [] });
    reporter.emit({ type: 'interrupted', second: false });
    reporter.emit({ type: 'host-done', outcome: { ...WEB2, kind: 'failed', step: 'build', reason: 'build failed', steps: [], tail: [] } });
    reporter.emit({ type: 'host-done', outcome: { ...WEB1, kind: 'skipped', reason: 'interrupted', steps: [] } });
    await reporter.close();
    const frame = finalFrame(out.chunks);
    expect(frame[0]).toMatch(/^✖ build {2}FAILED for web-2: attribute missing {2}\d+\.\ds$/);
    expect(frame).toContain('↓ web-1  skipped: interrupted  1.2s');
    expect(frame).toContain('✖ web-2  FAILED at build: build failed  3.1s');
    expect(frame).toContain('› interrupted — running steps are stopped, no new step starts; Ctrl-C again leaves at once');
    // vps-pacman never started: it is not drawn (the summary table lists every host).
    expect(frame.join('\n')).not.toContain('vps-pacman');
  });

  it('draws nothing when closed before any event, and ignores events after close', async () => {
    const out = fakeStream(true);
    const reporter = await createReporter({ mode: 'tty', stream: out.stream, plan: scriptPlan(), verbose: true });
    await reporter.close();
    reporter.emit({ type: 'host-start', host: 'web-1' });
    await reporter.close();
    expect(out.chunks).toEqual([]);
  });

  it('ignores hosts the plan does not know', async () => {
    const out = fakeStream(true);
    const reporter = await createReporter({ mode: 'tty', stream: out.stream, plan: scriptPlan(), color: false, verbose: true });
    reporter.emit({ type: 'host-start', host: 'stray' });
    reporter.emit({ type: 'step-start', host: 'stray', step: 'probe', title: 'probe' });
    reporter.emit({ type: 'host-done', outcome: { ...WEB1, host: 'stray' } });
    reporter.emit({ type: 'host-done', outcome: WEB1 });
    await reporter.close();
    // The stray host is not drawn; the planned hosts that never started are counted.
    expect(finalFrame(out.chunks)).toEqual(['✔ web-1  unchanged  /nix/store/…-nixos-system-web-1  1.2s', '↓ 2 hosts not started']);
  });

  it('falls back to plain lines without a plan', async () => {
    const out = fakeStream(true);
    const reporter = await createReporter({ mode: 'tty', stream: out.stream });
    reporter.emit({ type: 'host-done', outcome: WEB1 });
    await reporter.close();
    expect(out.text()).toBe(`[web-1] unchanged ${WEB1.storePath} (1.2s)\n`);
  });
});
