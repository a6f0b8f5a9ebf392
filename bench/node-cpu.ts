// The CPU time of fleet's own node process in a benchmark run: a preload that writes it at exit.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a preload (for NODE_OPTIONS=--require) into `dir`: every node process that loads it
 * writes its own user+system CPU in ms, at exit, to `<outDir>/<pid>`.
 */
export function writeCpuPreload(dir: string): { file: string; outDir: string } {
  const outDir = join(dir, 'node-cpu');
  mkdirSync(outDir, { recursive: true });
  const file = join(dir, 'node-cpu.cjs');
  writeFileSync(
    file,
    [
      '// fleet bench: the CPU time of this node process alone, written at exit.',
      "process.on('exit', () => {",
      '  const u = process.cpuUsage();',
      `  try { require('node:fs').writeFileSync(${JSON.stringify(outDir)} + '/' + process.pid, String((u.user + u.system) / 1000)); } catch {}`,
      '});',
      '',
    ].join('\n'),
  );
  return { file, outDir };
}

/** The CPU (ms) the preload wrote for process `pid`, or null; empties `outDir` for the next run. */
export function readOwnCpu(outDir: string, pid: number | undefined): number | null {
  let ownCpuMs: number | null = null;
  if (pid !== undefined) {
    try {
      ownCpuMs = Number(readFileSync(join(outDir, String(pid)), 'utf8'));
    } catch {
      ownCpuMs = null;
    }
  }
  for (const f of readdirSync(outDir)) rmSync(join(outDir, f));
  return ownCpuMs;
}
