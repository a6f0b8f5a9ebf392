// Build step: writes dist/help.txt, the text `fleet --help` prints, from the CLI itself (see bin/fleet.js).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const env = { ...process.env, FLEET_NO_HELP_CACHE: '1', LANG: 'C', LC_ALL: 'C' };
delete env.LC_MESSAGES;
const run = spawnSync(process.execPath, [new URL('../bin/fleet.js', import.meta.url).pathname, '--help'], { env, encoding: 'utf8' });
if (run.status !== 0) {
  process.stderr.write(`write-help: fleet --help exited ${run.status}\n${run.stderr}`);
  process.exit(1);
}
writeFileSync(new URL('../dist/help.txt', import.meta.url), run.stdout);
