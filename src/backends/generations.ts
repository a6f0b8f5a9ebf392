// fleet generations: a host's system generations with dates, which is live and which boots next,
// and who deployed each one from which revision, where the host's deploy history knows it.
import { parseHistoryLines, prefixedLines, type HistoryRecord } from './history.js';

/** One system generation of a host. */
export interface SystemGeneration {
  generation: number;
  /** As nix-env prints it (the target's local time), e.g. `2026-11-23 20:19:44`. */
  date: string;
  storePath: string;
  /** Its system is /run/current-system. */
  live: boolean;
  /** It is the profile's current generation: the boot default. */
  bootDefault: boolean;
  /** Its system is /run/booted-system. */
  booted: boolean;
  /** The newest deploy-history record of this generation (or of its system), if fleet wrote one. */
  record?: HistoryRecord;
}

export interface GenerationList {
  generations: SystemGeneration[];
  live: string;
  booted: string;
  /** Generation number of the boot default, if any. */
  bootDefault?: number;
  /** The newest deploy-history record of the live system, if fleet wrote one. */
  liveRecord?: HistoryRecord;
}

/**
 * The record of a generation: the deploy or install that made it (same system, the same generation
 * preferred); a rollback to it made nothing. Without a generation: the newest record of the system,
 * a rollback included (who made it live).
 */
export function recordOf(records: readonly HistoryRecord[], system: string, generation?: number): HistoryRecord | undefined {
  const same = records.filter((r) => r.system === system);
  if (generation === undefined) return same.at(-1);
  const made = same.filter((r) => r.action !== 'rollback');
  return made.filter((r) => r.generation === generation).at(-1) ?? made.at(-1);
}

/** Parses GENERATIONS_SCRIPT's answer; undefined when it is cut off. */
export function parseGenerations(stdout: string): GenerationList | undefined {
  const lines = stdout.split('\n');
  if (!lines.includes('end=ok')) return undefined;
  const dates = new Map<number, string>();
  const paths = new Map<number, string>();
  let live = '';
  let booted = '';
  let bootDefault: number | undefined;
  for (const line of lines) {
    const listed = /^list=\s*(\d+)\s+(\S+\s+\S+)/.exec(line);
    if (listed) dates.set(Number(listed[1]), listed[2] as string);
    const link = /^link=(\d+) (.*)$/.exec(line);
    if (link) paths.set(Number(link[1]), link[2] as string);
    if (line.startsWith('current=')) live = line.slice('current='.length);
    if (line.startsWith('booted=')) booted = line.slice('booted='.length);
    if (line.startsWith('default=') && line.length > 'default='.length) bootDefault = Number(line.slice('default='.length));
  }
  const { records } = parseHistoryLines(prefixedLines(stdout, 'history'));
  const numbers = [...new Set([...dates.keys(), ...paths.keys()])].sort((a, b) => a - b);
  const generations = numbers.map((n): SystemGeneration => {
    const storePath = paths.get(n) ?? '';
    const record = storePath ? recordOf(records, storePath, n) : undefined;
    return {
      generation: n,
      date: dates.get(n) ?? '',
      storePath,
      live: storePath !== '' && storePath === live,
      bootDefault: n === bootDefault,
      booted: storePath !== '' && storePath === booted,
      ...(record ? { record } : {}),
    };
  });
  const liveRecord = live ? recordOf(records, live) : undefined;
  return { generations, live, booted, bootDefault, ...(liveRecord ? { liveRecord } : {}) };
}

/**
 * The generation `fleet rollback` goes to: `--to N` when given (it must exist), else the newest one
 * before the boot default. Returns an error sentence when there is none.
 */
export function rollbackTarget(list: GenerationList, to: number | undefined): { generation: SystemGeneration } | { error: string } {
  if (to !== undefined) {
    const found = list.generations.find((g) => g.generation === to);
    if (!found) {
      const known = list.generations.map((g) => g.generation).join(', ');
      return { error: `generation ${to} does not exist (the host has ${known || 'none'})` };
    }
    return { generation: found };
  }
  const current = list.bootDefault ?? list.generations.at(-1)?.generation;
  const previous = list.generations.filter((g) => current !== undefined && g.generation < current).at(-1);
  if (!previous) return { error: `no generation before ${current ?? 'the current one'} to roll back to` };
  return { generation: previous };
}
