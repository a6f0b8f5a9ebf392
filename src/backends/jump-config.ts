// The ssh configs of the run's jump hosts, written before any ssh starts (see ssh/jump.ts).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Plan } from '../plan/index.js';
import { jumpConfigText } from '../ssh/index.js';

/** Writes each jump host's ssh config (0600, whole or not at all; two runs write the same content). */
export function writeJumpConfigs(plan: Pick<Plan, 'hosts'>): void {
  for (const host of plan.hosts) {
    const jump = host.ssh?.jump;
    if (!jump) continue;
    mkdirSync(dirname(jump.configFile), { recursive: true, mode: 0o700 });
    const partial = `${jump.configFile}.${process.pid}.tmp`;
    writeFileSync(partial, jumpConfigText(jump, host.ssh!.connectTimeout), { mode: 0o600 });
    renameSync(partial, jump.configFile);
  }
}
