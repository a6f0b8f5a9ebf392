// Which reporter a run gets, as a table.
import { describe, expect, it } from 'vitest';
import { chooseReporterMode, type ModeInputs, type ReporterMode } from '../../../src/ui/index.js';

describe('chooseReporterMode', () => {
  const cases: [ModeInputs, ReporterMode][] = [
    [{ isTTY: true, ci: false, json: false }, 'tty'],
    [{ isTTY: true, ci: true, json: false }, 'plain'],
    [{ isTTY: false, ci: false, json: false }, 'plain'],
    [{ isTTY: false, ci: true, json: false }, 'plain'],
    [{ isTTY: true, ci: false, json: false, forcePlain: true }, 'plain'],
    [{ isTTY: true, ci: false, json: true }, 'json'],
    [{ isTTY: false, ci: true, json: true }, 'json'],
    [{ isTTY: true, ci: false, json: true, forcePlain: true }, 'json'],
  ];
  it.each(cases)('%o → %s', (inputs, mode) => {
    expect(chooseReporterMode(inputs)).toBe(mode);
  });
});

describe('chooseReporterMode on a dumb terminal', () => {
  it('TERM=dumb gets plain lines on a terminal (it cannot move its cursor); --json still wins', () => {
    expect(chooseReporterMode({ isTTY: true, ci: false, json: false, term: 'dumb' })).toBe('plain');
    expect(chooseReporterMode({ isTTY: true, ci: false, json: true, term: 'dumb' })).toBe('json');
    expect(chooseReporterMode({ isTTY: true, ci: false, json: false, term: 'xterm-256color' })).toBe('tty');
  });
});
