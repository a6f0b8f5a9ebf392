// The state both terminal views draw from: each host's reached steps, its notes, the build, the notices.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/run/events.js';
import { applyLiveEvent, initialLiveState, type LiveState } from '../../../src/ui/index.js';
import { T0, WEB1, scriptPlan } from './event-script.js';

function played(events: [number, RunEvent][]): LiveState {
  const state = initialLiveState(scriptPlan(), T0);
  for (const [at, event] of events) applyLiveEvent(state, event, T0 + at);
  return state;
}

describe('live state', () => {
  it("folds a host's steps in the order it reaches them, each with its end and newest line", () => {
    const state = played([
      [100, { type: 'host-start', host: 'web-1' }],
      [100, { type: 'step-start', host: 'web-1', step: 'probe', title: 'lock and probe' }],
      [400, { type: 'step-done', host: 'web-1', step: 'probe', detail: 'NixOS 24.11' }],
      [400, { type: 'step-skip', host: 'web-1', step: 'bootstrap', reason: 'already NixOS' }],
      [500, { type: 'step-start', host: 'web-1', step: 'deploy', title: 'deploy (switch)' }],
      [600, { type: 'step-line', host: 'web-1', step: 'deploy', line: 'copying 3 paths...' }],
      [700, { type: 'step-line', host: 'web-1', step: 'deploy', line: 'secret', quiet: true }],
      [800, { type: 'step-line', host: 'web-1', step: 'deploy', line: "warning: error: SQLite database '/nix/var/nix/db/db.sqlite' is busy" }],
    ]);
    const web1 = state.hosts.get('web-1')!;
    expect(web1.steps).toEqual([
      { phase: 'probe', title: 'lock and probe', startedAt: T0 + 100, end: { kind: 'done', detail: 'NixOS 24.11' }, endedAt: T0 + 400 },
      // Ended by its guard without starting: its phase is its title.
      { phase: 'bootstrap', title: 'bootstrap', startedAt: T0 + 400, end: { kind: 'skipped', reason: 'already NixOS' }, endedAt: T0 + 400 },
      // Quiet lines and nix's busy-database retries are not a step's newest line.
      { phase: 'deploy', title: 'deploy (switch)', startedAt: T0 + 500, endedAt: 0, lastLine: 'copying 3 paths...' },
    ]);
    // Hosts that have not started have reached nothing.
    expect(state.hosts.get('web-2')!.steps).toEqual([]);
  });

  it('keeps a failed step, and ends a step still running when the host ends', () => {
    const state = played([
      [0, { type: 'step-start', host: 'web-2', step: 'deploy', title: 'deploy (switch)' }],
      [300, { type: 'step-failed', host: 'web-2', step: 'deploy', reason: 'exit 1' }],
      [0, { type: 'step-start', host: 'web-1', step: 'verify', title: 'verify' }],
      // A line naming another step (a question asked mid-step) goes to the step that runs.
      [100, { type: 'step-line', host: 'web-1', step: 'probe', line: 'sudo refused the password ›' }],
      [900, { type: 'host-done', outcome: WEB1 }],
    ]);
    expect(state.hosts.get('web-2')!.steps).toEqual([{ phase: 'deploy', title: 'deploy (switch)', startedAt: T0, end: { kind: 'failed', reason: 'exit 1' }, endedAt: T0 + 300 }]);
    expect(state.hosts.get('web-1')!.steps).toEqual([
      { phase: 'verify', title: 'verify', startedAt: T0, end: { kind: 'done', detail: '' }, endedAt: T0 + 900, lastLine: 'sudo refused the password ›' },
    ]);
  });

  it("keeps a host's notes and diff with it, the build's failure reasons, and the run's notices in order", () => {
    const state = played([
      [0, { type: 'build-cached', hosts: ['web-1'], evaluating: 2 }],
      [0, { type: 'build-start', hosts: ['vps-pacman', 'web-2'], chunk: 1, chunks: 1 }],
      [0, { type: 'build-failed', host: 'web-2', reason: 'attribute missing', tail: [] }],
      [0, { type: 'host-note', host: 'web-1', level: 'warn', message: 'accepted new host key' }],
      [0, { type: 'host-diff', host: 'web-1', diff: { kind: 'same', system: '/nix/store/x' } }],
      [0, { type: 'interrupted', second: false }],
    ]);
    expect(state.hosts.get('web-1')!.notes).toEqual(['! accepted new host key', 'diff: no changes']);
    expect(state.build.failed).toEqual([{ host: 'web-2', reason: 'attribute missing' }]);
    expect(state.notices).toEqual([
      expect.stringContaining('web-1'),
      'interrupted — running steps are stopped, no new step starts; Ctrl-C again leaves at once',
    ]);
  });
});
