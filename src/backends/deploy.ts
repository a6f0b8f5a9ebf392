// What switch-to-configuration's exit status means for a host (CONTRACTS.md: 0, 4, 100, other).

export type ActivationVerdict =
  | { kind: 'ok' }
  | { kind: 'units-failed' }
  | { kind: 'reboot-required' }
  | { kind: 'failed'; exitCode: number | null; signal: string | null };

export function activationVerdict(exitCode: number | null, signal: string | null): ActivationVerdict {
  if (exitCode === 0) return { kind: 'ok' };
  if (exitCode === 4) return { kind: 'units-failed' };
  if (exitCode === 100) return { kind: 'reboot-required' };
  return { kind: 'failed', exitCode, signal };
}

/**
 * The system a mode must leave in place: live system, boot default, or both. `live` is what must
 * run live: the toplevel itself, or the store path of its specialisation (the boot default stays
 * the toplevel).
 */
export function isDeployed(mode: string, facts: { current: string; profile: string }, toplevel: string, live: string = toplevel): boolean {
  switch (mode) {
    case 'switch':
      return facts.current === live && facts.profile === toplevel;
    case 'boot':
      return facts.profile === toplevel;
    case 'test':
      return facts.current === live;
    default:
      return false; // dry-activate never counts as deployed: it always runs (and changes nothing)
  }
}
