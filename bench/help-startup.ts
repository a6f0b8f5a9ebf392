// Benchmark: how long `fleet --help` takes from process start to exit (goal: under 300 ms).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/fleet.js', import.meta.url));
const runs = Number(process.env.RUNS ?? 15);
const times: number[] = [];
for (let i = 0; i < runs + 2; i++) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`fleet --help exited ${result.status}: ${result.stderr}`);
  if (i >= 2) times.push(ms); // the first runs warm the file cache
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] as number;
const p90 = times[Math.floor(times.length * 0.9)] as number;
console.log(`fleet --help: median ${median.toFixed(0)} ms, p90 ${p90.toFixed(0)} ms, min ${times[0]!.toFixed(0)} ms over ${runs} runs (goal < 300 ms)`);
