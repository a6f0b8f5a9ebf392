// Plays the scripted run through the live tree (PTY_VIEW=compact: the compact live view) on the real
// process.stdout; run under a pseudo-terminal.
import { createReporter } from '../../../src/ui/index.js';
import { AFTER_LINE, SCRIPT, STRAY_LINE, scriptPlan, settle } from './event-script.js';

const ownWrite = process.stdout.write;

/** Waits (up to 5 s) until the view has taken stdout's `write` (the tree does once listr2 has loaded). */
async function treeHoldsStdout(): Promise<void> {
  for (let waited = 0; process.stdout.write === ownWrite && waited < 5_000; waited += 10) await settle(10);
}

const reporter = await createReporter({ mode: 'tty', stream: process.stdout, color: false, plan: scriptPlan(), verbose: process.env.PTY_VIEW !== 'compact' });
for (const [index, phase] of SCRIPT.entries()) {
  for (const event of phase) reporter.emit(event);
  if (index === 1) {
    await treeHoldsStdout();
    process.stdout.write(`${STRAY_LINE}\n`);
  }
  await settle(150);
}
await reporter.close();
process.stdout.write(`${AFTER_LINE}\n`);
