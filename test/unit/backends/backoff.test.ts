// The retry schedules: short first waits, doubling, capped.
import { describe, expect, it } from 'vitest';
import { CONFIRM_BACKOFF, COPY_BACKOFF, REBOOT_POLL_BACKOFF, retryDelayMs } from '../../../src/backends/index.js';

describe('retryDelayMs', () => {
  it('starts at the first wait, doubles, and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((retry) => retryDelayMs(retry, CONFIRM_BACKOFF))).toEqual([50, 100, 200, 400, 800, 1600, 2000, 2000]);
    expect([0, 1].map((retry) => retryDelayMs(retry, COPY_BACKOFF))).toEqual([250, 500]);
    expect([0, 1, 2, 3, 4, 5].map((retry) => retryDelayMs(retry, REBOOT_POLL_BACKOFF))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('treats a negative retry as the first', () => {
    expect(retryDelayMs(-1, CONFIRM_BACKOFF)).toBe(50);
  });
});
