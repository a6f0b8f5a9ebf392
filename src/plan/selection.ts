// Host selection: names, globs (`web-*`), tags (`@vps`), and exclusions, over an inventory.
import { UsageError } from '../errors.js';
import type { HostSpec } from '../manifest/inventory.js';

/**
 * What the user selected on the command line. Empty `only` and `tags` mean every host; an empty
 * or blank selector inside them never does (it is a usage error, see {@link selectorsFrom}).
 */
export interface Selection {
  /** Names, globs or `@tag`s; comma-separated values are split by the CLI. */
  only: string[];
  /** Tags (with or without `@`). */
  tags: string[];
  /** Names, globs or `@tag`s to leave out. */
  exclude: string[];
  /**
   * Host names read from a file (`--retry-failed`'s report), with the file: each is compared with
   * the manifest's names exactly as it is, never as a glob or a tag, and must name a host.
   */
  exactNames?: { names: string[]; source: string };
}

export const SELECT_ALL: Selection = { only: [], tags: [], exclude: [] };

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** A list for a hint: the first few, then how many there are in all (a fleet may have thousands). */
function someOf(words: readonly string[], max = 12): string {
  if (words.length <= max) return words.join(', ');
  return `${words.slice(0, max).join(', ')}, … (${words.length} in all)`;
}

/** Hosts one selector picks; throws a UsageError naming what exists when it picks none. */
function match(selector: string, hosts: readonly HostSpec[], byName: ReadonlyMap<string, HostSpec>): HostSpec[] {
  if (selector.startsWith('@')) {
    const tag = selector.slice(1);
    const picked = hosts.filter((h) => h.tags.includes(tag));
    if (picked.length === 0) {
      const known = [...new Set(hosts.flatMap((h) => h.tags))].sort();
      throw new UsageError(
        `tag @${tag} matches no host`,
        known.length > 0 ? `known tags: ${someOf(known.map((t) => `@${t}`))}` : 'no host has tags',
      );
    }
    return picked;
  }
  if (/[*?]/.test(selector)) {
    const re = globToRegExp(selector);
    const picked = hosts.filter((h) => re.test(h.name));
    if (picked.length === 0) {
      throw new UsageError(`${selector} matches no host`, `known hosts: ${someOf(hosts.map((h) => h.name))}`);
    }
    return picked;
  }
  const host = byName.get(selector);
  if (!host) {
    throw new UsageError(`unknown host "${selector}"`, `known hosts: ${someOf(hosts.map((h) => h.name))}`);
  }
  return [host];
}

/** Why a selector is blank (`""`, `"  "`, `"@"`), if it is: such a selector names nothing. */
function blankness(selector: string): string | undefined {
  const text = selector.trim();
  if (text === '') return 'is empty';
  if (text.startsWith('@') && text.slice(1).trim() === '') return 'names no tag';
  return undefined;
}

const BLANK_HINT = 'name hosts, globs (web-*) or @tags; leave the selection out to act on every host';

/** Applies a selection; keeps manifest order. Every selector must pick at least one host. */
export function selectHosts(hosts: readonly HostSpec[], selection: Selection): HostSpec[] {
  const tags = selection.tags.map((t) => (t.trim().startsWith('@') ? t.trim() : `@${t.trim()}`));
  // The CLI refuses these with the flag's name (selectorsFrom); this guards every other caller.
  for (const selector of [...selection.only, ...selection.tags, ...selection.exclude]) {
    const blank = blankness(selector);
    if (blank !== undefined) throw new UsageError(`host selector ${JSON.stringify(selector)} ${blank}`, BLANK_HINT);
  }
  const selectors = [...selection.only.map((s) => s.trim()), ...tags];
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const chosen = new Set<string>(
    selectors.length === 0 ? hosts.map((h) => h.name) : selectors.flatMap((s) => match(s, hosts, byName).map((h) => h.name)),
  );
  if (selection.exactNames) {
    const { names, source } = selection.exactNames;
    const unknown = names.find((name) => !byName.has(name));
    if (unknown !== undefined) {
      throw new UsageError(
        `unknown host ${JSON.stringify(unknown)} in ${source}: a host name read from a file is compared exactly with the manifest's (never a glob or a tag)`,
        `known hosts: ${someOf(hosts.map((h) => h.name))}`,
      );
    }
    // Only these: the names narrow whatever the selectors chose (none: every host).
    for (const name of [...chosen]) if (!names.includes(name)) chosen.delete(name);
  }
  for (const selector of selection.exclude) {
    for (const host of match(selector.trim(), hosts, byName)) chosen.delete(host.name);
  }
  const picked = hosts.filter((h) => chosen.has(h.name));
  if (picked.length === 0) throw new UsageError('the selection leaves no host to act on');
  return picked;
}

/**
 * Selectors from one flag's values, repeated and comma-separated: `--only a,b --only c` → [a, b, c].
 * `flag` names the flag in messages (`--only`, `host argument`). A flag given without a value
 * (an empty list), an empty or blank value or item (`--only ''`, `--only=`, `--tag ' '`, `a,,b`,
 * `@`) is a usage error: an unset shell variable must never turn into "every host".
 */
export function selectorsFrom(flag: string, values: readonly unknown[] | unknown): string[] {
  if (values === undefined) return [];
  const list: unknown[] = Array.isArray(values) ? values : [values];
  // yargs hands `--only=` and a bare `--only` over as an empty list.
  if (list.length === 0) {
    throw new UsageError(`${flag} was given without a value: an empty selector selects nothing, not every host`, BLANK_HINT);
  }
  return list.flatMap((value) => {
    const text = typeof value === 'string' ? value : String(value ?? '');
    const items = text.split(',');
    return items.map((item) => {
      const blank = blankness(item);
      if (blank !== undefined) {
        const what = items.length > 1 ? `${flag} ${JSON.stringify(text)} has an item that ${blank}` : `${flag} ${JSON.stringify(text)} ${blank}`;
        throw new UsageError(`${what}: an empty selector selects nothing, not every host`, BLANK_HINT);
      }
      return item.trim();
    });
  });
}
