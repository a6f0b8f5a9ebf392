// bin/fleet.js serves `fleet --help` from dist/help.txt: it must be exactly what yargs prints.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../../bin/fleet.js', import.meta.url).pathname;
const HELP = new URL('../../../dist/help.txt', import.meta.url).pathname;

function help(env: Record<string, string>): { status: number | null; stdout: string } {
  const run = spawnSync(process.execPath, [BIN, '--help'], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout };
}

describe('fleet --help from dist/help.txt', () => {
  it('is the text yargs prints, in the layouts it is served for', () => {
    expect(existsSync(HELP), 'dist/help.txt is missing: run `npm run build` (npm test does)').toBe(true);
    const live = help({ FLEET_NO_HELP_CACHE: '1' });
    expect(live.status).toBe(0);
    expect(live.stdout).toMatch(/^fleet <command> \[options\]/);
    for (const LANG of ['', 'C.UTF-8', 'en_US.UTF-8']) {
      const cached = help({ LANG });
      expect(cached.status).toBe(0);
      expect(cached.stdout, `LANG=${LANG}`).toBe(live.stdout);
    }
  });
});
