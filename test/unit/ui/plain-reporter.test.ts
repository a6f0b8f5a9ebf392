// The plain renderer, line by line, and the silent json mode.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/run/events.js';
import { createReporter, formatPlainEvent, hostsLabel, painter } from '../../../src/ui/index.js';
import { PACMAN_PATH, SCRIPT, WEB1_PATH, WEB2_PATH, fakeStream } from './event-script.js';

describe('plain renderer', () => {
  it('writes one prefixed line per event worth showing', async () => {
    const out = fakeStream(false);
    const reporter = await createReporter({ mode: 'plain', stream: out.stream });
    for (const event of SCRIPT.flat()) reporter.emit(event);
    await reporter.close();
    expect(out.text().split('\n')).toEqual([
      '[build] vps-pacman, web-1, web-2: building',
      '[build] vps-pacman, web-1, web-2: evaluating 3 hosts',
      `[build] vps-pacman: built toplevel ${PACMAN_PATH}`,
      `[build] web-1: built toplevel ${WEB1_PATH}`,
      `[build] web-2: built toplevel ${WEB2_PATH}`,
      '[vps-pacman] probe: started',
      '[web-2] probe: started',
      '[vps-pacman] probe: done (NixOS 24.11)',
      '[web-2] probe: done (NixOS 24.11)',
      '[vps-pacman] bootstrap: skipped — already NixOS, not bootstrapping',
      '[web-2] deploy: deploy switch',
      '[web-2] deploy: activating the configuration...',
      '[vps-pacman] deploy: deploy switch',
      `[vps-pacman] deploy: copying path '${PACMAN_PATH}'`,
      '[web-2] deploy: failed — switch-to-configuration exited with 1',
      '[web-2] FAILED at deploy: switch-to-configuration exited with 1 (3.1s)',
      '[web-1] probe: started',
      '[web-1] probe: done (NixOS 24.11)',
      '[web-1] deploy: skipped — already runs the built system',
      `[web-1] unchanged ${WEB1_PATH} (1.2s)`,
      `[vps-pacman] deploy: done (switch ${PACMAN_PATH})`,
      '[vps-pacman] ! accepted new host key SHA256:abc (trust on first use)',
      '[vps-pacman] verify: started',
      '[vps-pacman] verify: done (new ssh connection ok)',
      `[vps-pacman] deployed switch ${PACMAN_PATH} (12.3s)`,
      '',
    ]);
  });

  it('never writes an escape sequence without colour, and styles with it', () => {
    const events = SCRIPT.flat();
    const plain = events.flatMap((e) => formatPlainEvent(e, painter(false))).join('\n');
    expect(plain).not.toContain('\u001b');
    const coloured = events.flatMap((e) => formatPlainEvent(e, painter(true))).join('\n');
    expect(coloured).toContain('\u001b[36m[web-2]\u001b[39m');
    expect(coloured).toContain('\u001b[31mFAILED at deploy');
  });

  it.each<[RunEvent, string[]]>([
    [{ type: 'build-start', hosts: ['a', 'b'], chunk: 2, chunks: 3 }, ['[build] a, b: building (chunk 2/3)']],
    [{ type: 'build-cached', hosts: ['a', 'b', 'c', 'd'], evaluating: 1 }, ['[build] 1 host to evaluate, 4 hosts from the evaluation cache (a, b, c +1)']],
    [{ type: 'build-cached', hosts: [], evaluating: 3 }, ['[build] 3 hosts to evaluate, none from the evaluation cache']],
    [{ type: 'build-line', hosts: ['a', 'b', 'c', 'd', 'e'], line: 'x' }, ['[build] a, b, c +2: x']],
    [{ type: 'build-failed', host: 'a', reason: 'eval error', tail: ['boom'] }, ['[build] a: build failed — eval error']],
    [{ type: 'host-start', host: 'a' }, []],
    [{ type: 'step-done', host: 'a', step: 'lock', detail: '' }, ['[a] lock: done']],
    [{ type: 'host-note', host: 'a', level: 'info', message: 'hello' }, ['[a] note: hello']],
    [{ type: 'host-diff', host: 'a', diff: { kind: 'same', system: '/nix/store/x' } }, ['[a] diff: no changes']],
    [
      {
        type: 'host-diff',
        host: 'a',
        diff: {
          kind: 'changes',
          from: '/nix/store/x',
          to: '/nix/store/y',
          changed: [{ name: 'lab-tool', from: ['1.0'], to: ['1.1'], sizeDelta: 8192 }],
          added: [{ name: 'lab-new', from: [], to: ['2.0'], sizeDelta: 3072 }],
          removed: [],
          closure: { fromPaths: 3, toPaths: 4, pathsAdded: 3, pathsRemoved: 2, fromBytes: 10240, toBytes: 21504 },
        },
      },
      [
        '[a] diff: 1 package changed, 1 added; closure +11.0 KiB',
        '[a] diff:   changed  lab-tool  1.0 → 1.1  +8.0 KiB',
        '[a] diff:   added    lab-new   2.0        +3.0 KiB',
        '[a] diff:   closure  3 → 4 paths (3 added, 2 removed), 10.0 KiB → 21.0 KiB (+11.0 KiB)',
      ],
    ],
    [{ type: 'interrupted', second: false }, ['[fleet] interrupted — running steps are stopped, no new step starts; Ctrl-C again leaves at once']],
    [{ type: 'interrupted', second: true }, ['[fleet] interrupted again — leaving now']],
  ])('%o', (event, lines) => {
    expect(formatPlainEvent(event)).toEqual(lines);
  });

  it('abbreviates long host lists', () => {
    expect(hostsLabel(['a', 'b', 'c'])).toBe('a, b, c');
    expect(hostsLabel(['a', 'b', 'c', 'd'])).toBe('a, b, c +1');
  });
});

describe('json mode', () => {
  it('renders nothing during the run', async () => {
    const out = fakeStream(true);
    const reporter = await createReporter({ mode: 'json', stream: out.stream });
    for (const event of SCRIPT.flat()) reporter.emit(event);
    await reporter.close();
    expect(out.chunks).toEqual([]);
  });
});
