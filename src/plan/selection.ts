// Host selection: names, globs (`web-*`), tags (`@vps`), and exclusions, over an inventory.
import { UsageError } from '../errors.js';
import type { HostSpec } from '../manifest/inventory.js';

/** What the user selected on the command line. Empty `only` means every host. */
export interface Selection {
  /** Names, globs or `@tag`s; comma-separated values are split by the CLI. */
  only: string[];
  /** Tags (without `@`). */
  tags: string[];
  /** Names, globs or `@tag`s to leave out. */
  exclude: string[];
}

export const SELECT_ALL: Selection = { only: [], tags: [], exclude: [] };

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Hosts one selector picks; throws a UsageError naming what exists when it picks none. */
function match(selector: string, hosts: readonly HostSpec[]): HostSpec[] {
  if (selector.startsWith('@')) {
    const tag = selector.slice(1);
    const picked = hosts.filter((h) => h.tags.includes(tag));
    if (picked.length === 0) {
      const known = [...new Set(hosts.flatMap((h) => h.tags))].sort();
      throw new UsageError(
        `tag @${tag} matches no host`,
        known.length > 0 ? `known tags: ${known.map((t) => `@${t}`).join(', ')}` : 'no host has tags',
      );
    }
    return picked;
  }
  if (/[*?]/.test(selector)) {
    const re = globToRegExp(selector);
    const picked = hosts.filter((h) => re.test(h.name));
    if (picked.length === 0) {
      throw new UsageError(`${selector} matches no host`, `known hosts: ${hosts.map((h) => h.name).join(', ')}`);
    }
    return picked;
  }
  const host = hosts.find((h) => h.name === selector);
  if (!host) {
    throw new UsageError(`unknown host "${selector}"`, `known hosts: ${hosts.map((h) => h.name).join(', ')}`);
  }
  return [host];
}

/** Applies a selection; keeps manifest order. */
export function selectHosts(hosts: readonly HostSpec[], selection: Selection): HostSpec[] {
  const selectors = [...selection.only, ...selection.tags.map((t) => (t.startsWith('@') ? t : `@${t}`))];
  const chosen = new Set<string>(
    selectors.length === 0 ? hosts.map((h) => h.name) : selectors.flatMap((s) => match(s, hosts).map((h) => h.name)),
  );
  for (const selector of selection.exclude) {
    for (const host of match(selector, hosts)) chosen.delete(host.name);
  }
  const picked = hosts.filter((h) => chosen.has(h.name));
  if (picked.length === 0) throw new UsageError('the selection leaves no host to act on');
  return picked;
}

/** Splits repeated and comma-separated CLI values: `--only a,b --only c` → [a, b, c]. */
export function splitList(values: readonly string[] | string | undefined): string[] {
  if (values === undefined) return [];
  const list = Array.isArray(values) ? values : [values];
  return list.flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
}
