// How the rollout reads: its waves in `fleet plan`, and its events in plain output.
import { describe, expect, it } from 'vitest';
import { formatPlainEvent } from '../../../src/ui/plain-reporter.js';
import { rolloutLines } from '../../../src/ui/format-plan.js';
import type { RolloutPlan } from '../../../src/plan/index.js';
import type { HostOutcome, RunEvent } from '../../../src/run/index.js';
import { createReporter, type ReporterMode } from '../../../src/ui/index.js';
import { fakeStream, scriptPlan, settle } from './event-script.js';

const rollout: RolloutPlan = {
  waves: [
    { kind: 'canary', index: 1, hosts: ['vps-pacman'] },
    { kind: 'wave', index: 2, hosts: ['web-1', 'web-2'] },
    { kind: 'wave', index: 3, hosts: ['web-3'] },
  ],
  pauseSeconds: 30,
  onFailure: 'rollback',
  description: 'canary vps-pacman, then waves of 2 hosts',
};

describe('rollout in fleet plan', () => {
  it('lists the waves in order with the gate and the bound', () => {
    expect(rolloutLines(rollout, 2)).toEqual([
      'rollout  3 waves: canary vps-pacman, then waves of 2 hosts; 30s pause between waves',
      '  a wave starts when every host of the one before ended changed or unchanged (health checks passed); when a wave fails, no later wave starts and its changed hosts are rolled back to the generation they ran before (onFailure: rollback)',
      '  each wave deploys up to 2 of its hosts at once, each as soon as it is evaluated (copying once it is built)',
      '  wave 1/3 (canary): vps-pacman',
      '  wave 2/3: web-1, web-2',
      '  wave 3/3: web-3',
    ]);
  });
});

describe('rollout events in plain output', () => {
  it.each<[RunEvent, string]>([
    [{ type: 'wave-start', wave: rollout.waves[0]!, waves: 3 }, '[rollout] canary vps-pacman (wave 1/3): starting'],
    [{ type: 'wave-start', wave: rollout.waves[1]!, waves: 3 }, '[rollout] wave 2/3: web-1, web-2: starting'],
    [{ type: 'wave-pause', seconds: 30, next: rollout.waves[1]!, waves: 3 }, '[rollout] pausing 30s before wave 2/3 (Ctrl-C stops the rollout)'],
    [{ type: 'rollout-stopped', reason: "canary vps-pacman failed its health check 'http'", rollingBack: [] }, "[rollout] rollout stopped: canary vps-pacman failed its health check 'http'"],
    [{ type: 'rollout-stopped', reason: 'web-2 (wave 2/3) failed at deploy', rollingBack: ['web-1', 'web-2'] }, '[rollout] rollout stopped: web-2 (wave 2/3) failed at deploy; rolling back web-1, web-2'],
  ])('%j', (event, line) => {
    expect(formatPlainEvent(event)).toEqual([line]);
  });
});

describe.each<[ReporterMode, boolean]>([
  ['plain', false],
  ['tty', false],
  ['tty', true],
])('a rolled-back wave in the %s renderer (verbose: %s)', (mode, verbose) => {
  it('shows the rollout stop, the rollback step and the host ending rolled back', async () => {
    const at = Date.UTC(2025, 0, 2, 12, 0, 0);
    const web1: HostOutcome = { host: 'web-1', kind: 'rolled-back', mode: 'switch', step: 'rollback', reason: 'deployed, then rolled back to generation 3: rollout stopped: web-2 (wave 2/3) failed at deploy', tail: [], startedAt: at, finishedAt: at + 5000, steps: [] };
    const events: RunEvent[] = [
      { type: 'wave-start', wave: rollout.waves[1]!, waves: 3 },
      { type: 'host-start', host: 'web-1' },
      { type: 'step-start', host: 'web-1', step: 'deploy', title: 'deploy (switch)' },
      { type: 'step-done', host: 'web-1', step: 'deploy', detail: 'switch /nix/store/x' },
      { type: 'rollout-stopped', reason: 'web-2 (wave 2/3) failed at deploy', rollingBack: ['web-1'] },
      { type: 'step-start', host: 'web-1', step: 'rollback', title: 'roll back to generation 3 (switch)' },
      { type: 'step-done', host: 'web-1', step: 'rollback', detail: 'generation 3 is the live system and boot default' },
      { type: 'host-done', outcome: web1 },
    ];
    const out = fakeStream(mode === 'tty');
    const reporter = await createReporter({ mode, stream: out.stream, plan: scriptPlan(), color: false, verbose });
    for (const event of events) {
      reporter.emit(event);
      await settle(5);
    }
    await reporter.close();
    const text = out.text();
    expect(text).toContain('rollout stopped: web-2 (wave 2/3) failed at deploy; rolling back web-1');
    // The compact live view shows a running step's title only while it runs; the others keep it.
    if (mode === 'plain' || verbose) expect(text).toContain('roll back to generation 3 (switch)');
    expect(text).toMatch(/rolled back/);
  });
});
