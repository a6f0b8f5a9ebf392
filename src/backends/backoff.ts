// Waits between tries of one step: short at first (a refused connection after sshd restarts is
// usually gone within a fraction of a second), doubling up to a cap, never past a deadline.

/** A retry schedule: the first wait and the longest one. */
export interface Backoff {
  firstMs: number;
  maxMs: number;
}

/** The wait before try `retry + 1` (`retry` counts from 0): firstMs, doubled each time, at most maxMs. */
export function retryDelayMs(retry: number, backoff: Backoff): number {
  return Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.max(0, retry));
}

/** The fresh connection after a live activation: 50 ms, 100 ms, … up to 2 s (was a fixed 2 s). */
export const CONFIRM_BACKOFF: Backoff = { firstMs: 50, maxMs: 2000 };
/** Another try of a failed closure copy: 250 ms, then 500 ms (was 2 s, then 4 s). */
export const COPY_BACKOFF: Backoff = { firstMs: 250, maxMs: 4000 };
/** Polling a host that reboots (fleet reboot, a bootstrap's wait for the installed system): 100 ms up to 1 s. */
export const REBOOT_POLL_BACKOFF: Backoff = { firstMs: 100, maxMs: 1000 };
