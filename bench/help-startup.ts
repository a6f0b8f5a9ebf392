// Benchmark: how long `fleet --help` takes from process start to exit, against a bare `node -e 0`
// (the floor any Node CLI pays); the goal is fleet/node ≤ 2×.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/fleet.js', import.meta.url));
const runs = Number(process.env.RUNS ?? 15);

/** Median, p90 and min wall time (ms) of `node <args>` over `runs` runs, after two warm-up runs. */
function measure(args: string[], what: string): { median: number; p90: number; min: number } {
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${what} exited ${result.status}: ${result.stderr}`);
    if (i >= 2) times.push(ms); // the first runs warm the file cache
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, p90: times[Math.floor(times.length * 0.9)]!, min: times[0]! };
}

// Interleaving would be fairer on a noisy machine, but each figure is a median of many runs.
const node = measure(['-e', '0'], 'node -e 0');
const fleet = measure([bin, '--help'], 'fleet --help');
const line = (what: string, m: { median: number; p90: number; min: number }) =>
  `  ${what.padEnd(13)} median ${m.median.toFixed(0).padStart(4)} ms, p90 ${m.p90.toFixed(0).padStart(4)} ms, min ${m.min.toFixed(0).padStart(4)} ms`;
console.log(`fleet --help against a bare node start (${runs} runs each)`);
console.log(line('node -e 0', node));
console.log(line('fleet --help', fleet));
console.log(`  fleet/node ${(fleet.median / node.median).toFixed(2)}× (median; goal ≤ 2×)`);
