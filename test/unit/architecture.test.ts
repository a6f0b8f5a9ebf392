// The module rules of ../shared/STYLE.md (beside the repository), enforced: who may import what, and no import cycles.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** module of a file: its first folder under src/ ('errors' for src/errors.ts). */
function moduleOf(path: string): string {
  const rel = relative(SRC, path);
  return rel.includes('/') ? (rel.split('/')[0] as string) : rel.replace(/\.ts$/, '');
}

interface Import {
  from: string;
  specifier: string;
  /** Resolved src file for relative imports. */
  target?: string;
}

const IMPORTS: Import[] = files(SRC).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g)].map((m) => (m[1] ?? m[2]) as string);
  return specifiers.map((specifier) => ({
    from: file,
    specifier,
    target: specifier.startsWith('.') ? resolve(dirname(file), specifier).replace(/\.js$/, '.ts') : undefined,
  }));
});

describe('module boundaries', () => {
  it('nothing in src/ imports zx (its $ always runs a shell), and only exec/ spawns processes', () => {
    const zx = IMPORTS.filter((i) => i.specifier === 'zx' || i.specifier.startsWith('zx/'));
    expect(zx.map((i) => relative(SRC, i.from))).toEqual([]);
    const spawners = IMPORTS.filter((i) => i.specifier === 'node:child_process' && moduleOf(i.from) !== 'exec');
    expect(spawners.map((i) => relative(SRC, i.from))).toEqual([]);
  });

  it('zx is a development dependency, used where scripts live: the lab, the demo, the bench, the installer', () => {
    const pkg = JSON.parse(readFileSync(join(SRC, '..', 'package.json'), 'utf8')) as { dependencies?: object; devDependencies?: object };
    expect(Object.keys(pkg.dependencies ?? {})).not.toContain('zx');
    expect(Object.keys(pkg.devDependencies ?? {})).toContain('zx');
    for (const script of ['scripts/install-lab-deps.ts', 'scripts/demo.ts', 'bench/run.ts', 'test/lab/lab.ts']) {
      expect(readFileSync(join(SRC, '..', script), 'utf8'), script).toMatch(/from 'zx'/);
    }
  });

  it('only ui/ imports listr2', () => {
    const offenders = IMPORTS.filter((i) => i.specifier.startsWith('listr2') && moduleOf(i.from) !== 'ui');
    expect(offenders.map((i) => relative(SRC, i.from))).toEqual([]);
  });

  it('nothing outside cli/ imports cli/, and only cli/ imports ui/', () => {
    const offenders = IMPORTS.filter((i) => {
      if (!i.target) return false;
      const to = moduleOf(i.target);
      const from = moduleOf(i.from);
      return (to === 'cli' && from !== 'cli') || (to === 'ui' && from !== 'ui' && from !== 'cli');
    });
    expect(offenders.map((i) => `${relative(SRC, i.from)} → ${i.specifier}`)).toEqual([]);
  });

  it('manifest/ depends only on errors; plan/ not on run, backends, exec or ui', () => {
    const offenders = IMPORTS.filter((i) => {
      if (!i.target) return false;
      const from = moduleOf(i.from);
      const to = moduleOf(i.target);
      if (from === 'manifest') return !['manifest', 'errors'].includes(to);
      if (from === 'plan') return ['run', 'backends', 'exec', 'ui', 'report', 'cli'].includes(to);
      if (from === 'run') return ['ui', 'cli'].includes(to);
      return false;
    });
    expect(offenders.map((i) => `${relative(SRC, i.from)} → ${i.specifier}`)).toEqual([]);
  });

  it('process.exit is called only in cli/', () => {
    const offenders = files(SRC).filter((f) => moduleOf(f) !== 'cli' && /process\.exit\(/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('the operating commands spawn nothing themselves: cli/operate-*.ts (and history) run hosts through run/ (the host verbs)', () => {
    const operating = files(join(SRC, 'cli')).filter((f) => /\/(operate-[^/]*|history-run)\.ts$/.test(f));
    expect(operating.map((f) => relative(SRC, f)).sort()).toEqual(['cli/history-run.ts', 'cli/operate-change.ts', 'cli/operate-run.ts']);
    expect(operating.flatMap((f) => spawnOffences(readFileSync(f, 'utf8')).map((o) => `${relative(SRC, f)}: ${o}`))).toEqual([]);
  });

  it('the rule above catches a command that calls a backend or the process port itself', () => {
    const offending = [
      "import { execProcess, type Exec } from '../exec/index.js';",
      "import { rollbackHost, statusExitCode, type RollbackResult } from '../backends/index.js';",
      'const run = await exec({ argv: ["ssh", host] });',
    ].join('\n');
    expect(spawnOffences(offending)).toEqual([
      'imports execProcess from ../exec/index.js',
      'imports rollbackHost from ../backends/index.js',
      'calls exec(…)',
    ]);
    expect(spawnOffences("import type { Exec } from '../exec/index.js';\nimport { statusExitCode, type HostStatus } from '../backends/index.js';")).toEqual([]);
  });

  it('has no import cycles between modules', () => {
    const edges = new Map<string, Set<string>>();
    for (const i of IMPORTS) {
      if (!i.target) continue;
      const [from, to] = [moduleOf(i.from), moduleOf(i.target)];
      if (from === to) continue;
      edges.set(from, (edges.get(from) ?? new Set()).add(to));
    }
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      for (const next of edges.get(node) ?? []) {
        if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), node, next].join(' → '));
        else visit(next, [...path, node]);
      }
    };
    for (const node of edges.keys()) visit(node, []);
    expect([...new Set(cycles)]).toEqual([]);
  });
});

/** Pure helpers of backends/ that an operating command may use for its output (they spawn nothing). */
const PURE_BACKEND_HELPERS = ['statusExitCode', 'checkInstallRoot'];

/**
 * Why a cli file spawns processes itself: any value it imports from exec/ or backends/ (types
 * aside) other than the pure helpers, and any call of an Exec.
 */
function spawnOffences(text: string): string[] {
  const offences: string[] = [];
  for (const m of text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+'(\.\.\/(?:exec|backends)\/[^']*)'/g)) {
    if (m[1]) continue;
    const names = (m[2] as string).split(',').map((n) => n.trim()).filter((n) => n && !n.startsWith('type '));
    for (const name of names) if (!PURE_BACKEND_HELPERS.includes(name)) offences.push(`imports ${name} from ${m[3]}`);
  }
  for (const m of text.matchAll(/import\s+\*\s+as\s+\w+\s+from\s+'(\.\.\/(?:exec|backends)\/[^']*)'/g)) offences.push(`imports all of ${m[1]}`);
  if (/\bexec\s*\(/.test(text)) offences.push('calls exec(…)');
  return offences;
}

/**
 * The text matching left in src/run and src/cli (`.test(`, `match(`, `startsWith(`, `includes(`),
 * each with what it reads: none reads an error's message. Failures are typed (src/errors.ts) and
 * the runner switches on the type; a new match on text needs an entry here, and a reason.
 */
const TEXT_MATCHES_THAT_ARE_NO_ERROR_TEXT: { file: string; fragment: string; reads: string }[] = [
  { file: 'run/', fragment: 'scope.steps.includes(', reads: 'the plan’s requested step kinds' },
  { file: 'run/', fragment: '.includes(o.kind)', reads: 'outcome kinds (a union)' },
  { file: 'run/', fragment: "'unreachable'].includes(outcome.kind)", reads: 'outcome kinds (a union)' },
  { file: 'run/', fragment: 'rollingBack.includes(o.host)', reads: 'host names' },
  { file: 'cli/context.ts', fragment: '--store-path', reads: 'nixos-rebuild’s answer to a bare --store-path: the flavour probe of CONTRACTS.md (its exit code alone cannot tell ng with the flag from ng without)' },
  { file: 'cli/context.ts', fragment: "program.includes('/')", reads: 'a program name from the manifest (PATH search)' },
  { file: 'cli/context.ts', fragment: "dir.startsWith('/')", reads: 'a PATH entry' },
  { file: 'cli/context.ts', fragment: ".includes('deploy')", reads: 'the requested step kinds' },
  { file: 'cli/operate-run.ts', fragment: '/[*?@,]/.test(name)', reads: 'a host name the user typed' },
  { file: 'cli/confirm.ts', fragment: '.test(answer)', reads: 'the user’s answer at the prompt' },
  { file: 'cli/provenance.ts', fragment: 'bare.startsWith(', reads: 'the flake reference' },
  { file: 'cli/provenance.ts', fragment: '.test(commit)', reads: 'a git commit id' },
  { file: 'cli/options.ts', fragment: '.test(name)', reads: 'a --specialisation name the user typed' },
  { file: 'cli/sudo-password.ts', fragment: '.test(password)', reads: 'the password the user typed (a line break cannot go to sudo -S)' },
];

describe('typed failures', () => {
  it('nothing in src/run or src/cli decides by matching text, other than the listed non-error inputs', () => {
    const hits = [...files(join(SRC, 'run')), ...files(join(SRC, 'cli'))].flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({ file: relative(SRC, file), line: index + 1, text: line }))
        .filter((l) => /\.test\(|match\(|startsWith\(|includes\(/.test(l.text) && !/^\s*(\/\/|\*)/.test(l.text)),
    );
    const unexplained = hits.filter((hit) => !TEXT_MATCHES_THAT_ARE_NO_ERROR_TEXT.some((m) => hit.file.startsWith(m.file) && hit.text.includes(m.fragment)));
    expect(unexplained.map((h) => `${h.file}:${h.line}: ${h.text.trim()}`)).toEqual([]);
    // And none of them names an error, a message, a reason or stderr.
    const onErrors = hits.filter((hit) => /\b(error|message|reason|stderr|problems?)\b/i.test(hit.text) && !hit.text.includes('--store-path'));
    expect(onErrors.map((h) => `${h.file}:${h.line}: ${h.text.trim()}`)).toEqual([]);
  });
});
