// Reading the answers of the watchdog scripts (arm, confirm) run on the target.

export interface ArmedWatchdog {
  id: string;
  /** The live system when armed: what a rollback returns to. */
  previous: string;
  /** Local time (ms) after which the target rolls back on its own. */
  deadline: number;
}

export function parseArmed(stdout: string): { previous: string } | undefined {
  const previous = stdout.match(/^previous=(.+)$/m)?.[1];
  return stdout.includes('armed=') && previous ? { previous } : undefined;
}

export type ConfirmAnswer = { kind: 'confirmed' } | { kind: 'fired'; system: string } | { kind: 'unclear' };

export function parseConfirm(stdout: string): ConfirmAnswer {
  const fired = stdout.match(/^fired=(.*)$/m)?.[1];
  if (fired !== undefined) return { kind: 'fired', system: fired };
  if (/^confirmed$/m.test(stdout)) return { kind: 'confirmed' };
  return { kind: 'unclear' };
}
