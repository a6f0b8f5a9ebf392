// The renderers side by side on the same event script: each must tell the same story.
import { describe, expect, it } from 'vitest';
import { describeOutcome } from '../../../src/report/index.js';
import { createReporter, type ReporterMode } from '../../../src/ui/index.js';
import { PACMAN, SCRIPT, WEB1, WEB2, fakeStream, scriptPlan, settle } from './event-script.js';

// eslint-disable-next-line no-control-regex
const CURSOR_AND_ERASE = /\r?\u001b\[(?:\?25[lh]|\d*[AGJK])/g;
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/;

async function render(mode: ReporterMode, pauseAfterFailure: boolean, verbose = false): Promise<string> {
  const out = fakeStream(mode === 'tty');
  const reporter = await createReporter({ mode, stream: out.stream, plan: scriptPlan(), color: false, verbose });
  for (const phase of SCRIPT) {
    for (const event of phase) reporter.emit(event);
    // Long enough for the tree to draw a frame (at most one per 50 ms) between phases.
    if (pauseAfterFailure) await settle(150);
  }
  await reporter.close();
  return out.text();
}

describe.each<[ReporterMode, boolean]>([
  ['plain', false],
  ['tty', true],
])('%s renderer on the shared script (verbose: %s)', (mode, verbose) => {
  it.each([true, false])('reports every host outcome and the failure (pauses: %s)', async (pause) => {
    const text = (await render(mode, pause, verbose)).replace(CURSOR_AND_ERASE, '');
    for (const outcome of [PACMAN, WEB1, WEB2]) {
      expect(text).toContain(outcome.host);
      expect(text).toContain(describeOutcome(outcome));
    }
    expect(text).toContain('switch-to-configuration exited with 1');
    // The tree draws at most one frame per 50 ms: a host that goes through every step between two
    // frames (no pauses) is only drawn collapsed, and a host that succeeded keeps no step lines.
    if (mode === 'plain' || pause) expect(text).toContain('already NixOS, not bootstrapping');
    expect(text).toContain('! accepted new host key SHA256:abc (trust on first use)');
  });

  it('writes no colour when colour is off', async () => {
    expect(await render(mode, true, verbose)).not.toMatch(SGR);
  });
});

// The compact view counts finished hosts (the summary table after it lists them) and keeps failures in view.
describe('compact tty view on the shared script', () => {
  it.each([true, false])('counts every host, shows the failure and the notes (pauses: %s)', async (pause) => {
    const text = (await render('tty', pause)).replace(CURSOR_AND_ERASE, '');
    expect(text).toMatch(/^✖ web-2 +FAILED at deploy: switch-to-configuration exited with 1$/m);
    expect(text).toMatch(/^fleet {2}3\/3 done · 1 failed · 0 running {2}\d/m);
    expect(text).toContain('vps-pacman: ! accepted new host key SHA256:abc (trust on first use)');
  });

  it('writes no colour when colour is off', async () => {
    expect(await render('tty', true)).not.toMatch(SGR);
  });
});

describe('json renderer on the shared script', () => {
  it('stays quiet', async () => {
    expect(await render('json', false)).toBe('');
  });
});
