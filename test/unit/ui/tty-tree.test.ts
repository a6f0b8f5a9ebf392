// The step tree (--verbose) read frame by frame: hosts and steps appear as the run reaches them,
// from the state the compact view folds; steps never reached are never drawn.
import { afterEach, describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/plan/index.js';
import type { SecretSpec } from '../../../src/manifest/inventory.js';
import type { RunEvent } from '../../../src/run/events.js';
import { TtyReporter } from '../../../src/ui/index.js';
import { plannedSteps } from '../../../src/ui/tty-reporter.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';
import { LAB_TOOL_DIFF, T0, WEB2, fakeStream, scriptPlan, settle } from './event-script.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const SPINNER = /^( *)[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /;

/** The frame on screen: what follows the newest erase (log-update ends each erase with `ESC[G`). */
function screen(chunks: string[]): string[] {
  const text = chunks.join('');
  return text
    .slice(text.lastIndexOf('\u001b[G'))
    .replace(ANSI, '')
    .split('\n')
    .map((line) => line.trimEnd().replace(SPINNER, '$1⠋ '))
    .filter(Boolean);
}

/** A tree on a fake terminal with a clock the test moves. */
function tree() {
  const out = fakeStream(true);
  const clock = { now: T0 };
  const reporter = new TtyReporter({ stream: out.stream, plan: scriptPlan(), color: false, now: () => clock.now });
  const play = async (events: RunEvent[], at?: number) => {
    if (at !== undefined) clock.now = at;
    for (const event of events) reporter.emit(event);
    await settle(10);
  };
  const frame = () => screen(out.chunks);
  // Newest lines and elapsed times are drawn on the next tick (100 ms), frames at most every 50 ms.
  const shows = (lines: string[]) => expect.poll(frame, { timeout: 5_000, interval: 20 }).toEqual(lines);
  return { out, clock, reporter, play, frame, shows };
}

let open: TtyReporter | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

describe('step tree', () => {
  it('draws a host once it starts and each step once the host reaches it', async () => {
    const t = tree();
    open = t.reporter;
    await t.play([
      { type: 'host-start', host: 'web-1' },
      { type: 'step-start', host: 'web-1', step: 'probe', title: 'lock and probe' },
    ]);
    // web-1's later steps are not drawn before it reaches them; hosts that have not started are not drawn.
    await t.shows(['❯ web-1', '  ⠋ lock and probe  0s', '⠋ 2 hosts waiting']);

    await t.play([{ type: 'step-done', host: 'web-1', step: 'probe', detail: 'NixOS 24.11' }], T0 + 400);
    await t.play([
      { type: 'step-start', host: 'web-1', step: 'deploy', title: 'deploy (switch)' },
      { type: 'step-line', host: 'web-1', step: 'deploy', line: 'copying 3 paths...' },
    ]);
    await t.play([], T0 + 5_400);
    await t.shows(['❯ web-1', '  ✔ lock and probe: NixOS 24.11  0.4s', '  ⠋ deploy (switch)  5s', '    › copying 3 paths...', '⠋ 2 hosts waiting']);

    await t.play([{ type: 'host-start', host: 'web-2' }, { type: 'step-start', host: 'web-2', step: 'probe', title: 'lock and probe' }]);
    await t.shows([
      '❯ web-1',
      '  ✔ lock and probe: NixOS 24.11  0.4s',
      '  ⠋ deploy (switch)  5s',
      '    › copying 3 paths...',
      '❯ web-2',
      '  ⠋ lock and probe  0s',
      '⠋ 1 host waiting',
    ]);
  });

  it('never draws a step the host does not reach, and keeps the failing step in view', async () => {
    const t = tree();
    open = t.reporter;
    await t.play([
      { type: 'host-start', host: 'web-2' },
      { type: 'step-start', host: 'web-2', step: 'probe', title: 'lock and probe' },
      { type: 'step-done', host: 'web-2', step: 'probe', detail: 'NixOS 24.11' },
      { type: 'step-start', host: 'web-2', step: 'push-keys', title: 'push keys' },
    ]);
    await t.play([{ type: 'step-failed', host: 'web-2', step: 'push-keys', reason: 'permission denied' }], T0 + 2_000);
    // Failed, its outcome not in yet: the failing step is drawn, nothing after it.
    await t.shows(['❯ web-2', '  ✔ lock and probe: NixOS 24.11  0.0s', '  ✖ push keys: permission denied', '⠋ 2 hosts waiting']);
    const outcome = { ...WEB2, step: 'push-keys' as const, reason: 'permission denied', steps: [] };
    await t.play([{ type: 'host-done', outcome }]);
    await t.reporter.close();
    await t.shows([
      '✖ web-2  FAILED at push-keys: permission denied  3.1s',
      '  ✔ lock and probe: NixOS 24.11  0.0s',
      '  ✖ push keys: permission denied',
      // Closed before the other hosts started (the summary table lists them).
      '↓ 2 hosts not started',
    ]);
  });

  it('draws a step skipped by its guard with its reason, and a step the plan did not foresee', async () => {
    const t = tree();
    open = t.reporter;
    await t.play([
      { type: 'host-start', host: 'web-1' },
      { type: 'step-skip', host: 'web-1', step: 'probe', reason: 'not requested' },
      { type: 'step-start', host: 'web-1', step: 'deploy', title: 'deploy (switch)' },
      { type: 'step-done', host: 'web-1', step: 'deploy', detail: '/nix/store/q3wx7y0b1c2d3f4g5h6i7j8k9l0m1n2p-nixos-system-web-1' },
      // The script plan has no rollout: no host of it plans a rollback, yet one is drawn when it comes.
      { type: 'step-start', host: 'web-1', step: 'rollback', title: 'roll back to generation 3 (switch)' },
    ]);
    await t.shows([
      '❯ web-1',
      '  ↓ probe: skipped — not requested',
      '  ✔ deploy (switch): /nix/store/…-nixos-system-web-1  0.0s',
      '  ⠋ roll back to generation 3 (switch)  0s',
      '⠋ 2 hosts waiting',
    ]);
  });

  it("keeps a host's notes and diff under it once it collapses", async () => {
    const t = tree();
    open = t.reporter;
    await t.play([
      { type: 'host-start', host: 'web-1' },
      { type: 'host-note', host: 'web-1', level: 'warn', message: 'accepted new host key SHA256:abc (trust on first use)' },
      {
        type: 'host-diff',
        host: 'web-1',
        diff: LAB_TOOL_DIFF,
      },
      { type: 'host-done', outcome: { ...WEB2, host: 'web-1', kind: 'changed', reason: 'switched', step: 'verify' } },
    ]);
    await t.reporter.close();
    await t.shows([
      '✔ web-1  deployed switch  /nix/store/…-nixos-system-web-2  3.1s',
      '  › ! accepted new host key SHA256:abc (trust on first use)',
      '  › diff: 1 package changed; closure +8.0 KiB',
      // listr2 trims each output line: the diff's own indentation is not kept.
      '  › changed  lab-tool  1.0 → 1.1  +8.0 KiB',
      '  › closure  2 → 2 paths (2 added, 2 removed), 4.0 KiB → 12.0 KiB (+8.0 KiB)',
      '↓ 2 hosts not started',
    ]);
  });

  it('says which step a host was in when the run ends before the host does', async () => {
    const t = tree();
    open = t.reporter;
    await t.play([
      { type: 'host-start', host: 'web-1' },
      { type: 'step-start', host: 'web-1', step: 'deploy', title: 'deploy (switch)' },
      { type: 'interrupted', second: true },
    ]);
    await t.reporter.close();
    // The notices are the bottom bar, under the tree.
    await t.shows(['↓ web-1  not finished (in deploy (switch))', '↓ 2 hosts not started', '› interrupted again — leaving now']);
  });
});

describe('plannedSteps', () => {
  it("is the host sequence's order, with the steps the host's plan has", () => {
    expect(plannedSteps(scriptPlan().hosts[0]!)).toEqual(['probe', 'push-keys', 'bootstrap', 'deploy', 'verify']);
    const secret = (upload: SecretSpec['upload']): SecretSpec => ({ name: upload, source: { kind: 'env', name: 'DB' }, destination: `/run/keys/${upload}`, owner: 'root', group: 'root', mode: '0400', upload });
    const plan = buildPlan(
      inventory([host('web-1', { secrets: [secret('before-activation'), secret('after-activation')] }), host('web-2')]),
      planOptions({ diff: 'show', rollout: { canary: ['web-1'], onFailure: 'rollback' } }),
    );
    expect(plannedSteps(plan.hosts[0]!)).toEqual(['probe', 'diff', 'secrets', 'push-keys', 'bootstrap', 'secrets', 'deploy', 'verify', 'secrets', 'rollback']);
  });
});
