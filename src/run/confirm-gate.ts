// The --confirm gate: every host waits after its diff until each selected host has either reached
// the gate or ended (its build or copy failed, it was interrupted), then one question decides for all.
import type { ClosureDiff } from '../backends/closure-diff.js';

/** A host waiting at the gate with what its deploy would change. */
export interface GateArrival {
  host: string;
  diff: ClosureDiff;
}

/**
 * Asks once, with every waiting host's diff (in plan order); true lets them all go on. It must
 * answer no by itself when it cannot ask (no terminal, interrupted).
 */
export type AskConfirm = (arrivals: GateArrival[]) => Promise<boolean>;

export class ConfirmGate {
  private readonly waiting = new Set<string>();
  private readonly arrivals = new Map<string, ClosureDiff>();
  private asked = false;
  private settle!: (yes: boolean) => void;
  private readonly decision = new Promise<boolean>((resolve) => (this.settle = resolve));

  /** @param hosts every selected host, in plan order */
  constructor(
    private readonly hosts: readonly string[],
    private readonly ask: AskConfirm,
  ) {
    for (const host of hosts) this.waiting.add(host);
  }

  /** A host's diff is made: it waits here for the one answer. */
  arrive(host: string, diff: ClosureDiff): Promise<boolean> {
    this.arrivals.set(host, diff);
    this.askWhenAllThere();
    return this.decision;
  }

  /** A host ended (whatever its outcome): it is no longer waited for. */
  leave(host: string): void {
    this.waiting.delete(host);
    this.askWhenAllThere();
  }

  private askWhenAllThere(): void {
    if (this.asked || this.arrivals.size === 0) return;
    if (![...this.waiting].every((host) => this.arrivals.has(host))) return;
    this.asked = true;
    const arrivals = this.hosts.filter((h) => this.arrivals.has(h)).map((host) => ({ host, diff: this.arrivals.get(host) as ClosureDiff }));
    this.ask(arrivals).then(
      (yes) => this.settle(yes),
      () => this.settle(false),
    );
  }
}
