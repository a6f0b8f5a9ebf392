// A rollout's wave size, as the manifest's rollout.waves and the --waves flag write it. A file of its
// own: the command line reads --waves without loading the manifest reader.
import type { WaveSize } from './inventory.js';

/**
 * A wave size as the manifest or --waves writes it: a whole number of hosts (≥ 1) or a percentage
 * ("25%", 1–100). Undefined when it is neither.
 */
export function parseWaveSize(value: number | string): WaveSize | undefined {
  const text = String(value).trim();
  const percent = /^(\d+)%$/.exec(text);
  if (percent) {
    const n = Number(percent[1]);
    return n >= 1 && n <= 100 ? { percent: n } : undefined;
  }
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 ? { hosts: n } : undefined;
}
