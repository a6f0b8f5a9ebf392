// Who deploys what: the operator (user@machine, or the CI's actor and run), the flake's git
// revision and fleet's version, gathered once per run for the plan and each host's deploy history.
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { execProcess, type Exec } from '../exec/index.js';
import type { CiRun, Provenance } from '../plan/index.js';
import { runsInCi } from '../ci-environment.js';

type Env = Readonly<Record<string, string | undefined>>;

/** One short line: no control characters (a record is one line), at most 200 characters. */
function clean(value: string | undefined): string | null {
  const text = (value ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 200);
  return text === '' ? null : text;
}

/** A URL without credentials (`https://user:token@host/…` → `https://host/…`). */
export function withoutCredentials(url: string | null): string | null {
  return url === null ? null : url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/**
 * The CI run fleet runs in, from the variables each CI sets (names and links only: no variable
 * that could hold a token is read). GitHub Actions (and Forgejo/Gitea Actions, which set the same
 * variables), GitLab CI, Buildkite, CircleCI, Jenkins; any other CI (`runsInCi`) is `ci`. None
 * when `runsInCi` says no (`CI=false` in a CI job included).
 */
export function ciRunFromEnv(env: Env): CiRun | null {
  const run = (system: string, actor: string | undefined, runUrl: string | null | undefined): CiRun => ({
    system,
    actor: clean(actor),
    runUrl: withoutCredentials(clean(runUrl ?? undefined)),
  });
  if (!runsInCi(env)) return null;
  if (env.GITHUB_ACTIONS === 'true') {
    const system = env.FORGEJO_ACTIONS === 'true' ? 'forgejo-actions' : env.GITEA_ACTIONS === 'true' ? 'gitea-actions' : 'github-actions';
    const url =
      env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
        ? `${env.GITHUB_SERVER_URL.replace(/\/+$/, '')}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : null;
    return run(system, env.GITHUB_ACTOR, url);
  }
  if (env.GITLAB_CI === 'true') return run('gitlab-ci', env.GITLAB_USER_LOGIN, env.CI_JOB_URL ?? env.CI_PIPELINE_URL);
  if (env.BUILDKITE === 'true') return run('buildkite', env.BUILDKITE_BUILD_CREATOR, env.BUILDKITE_BUILD_URL);
  if (env.CIRCLECI === 'true') return run('circleci', env.CIRCLE_USERNAME, env.CIRCLE_BUILD_URL);
  if (env.JENKINS_URL) return run('jenkins', env.BUILD_USER_ID, env.BUILD_URL);
  return run('ci', undefined, null);
}

/** `$FLEET_OPERATOR` when set, else the CI's actor, else `user@machine`. */
export function operatorFrom(env: Env, ci: CiRun | null, local: { user: string; machine: string }): string {
  return clean(env.FLEET_OPERATOR) ?? ci?.actor ?? `${local.user}@${local.machine}`;
}

/** The directory of a flake on this machine, or undefined for a remote flake reference. */
export function localFlakeDir(flake: string): string | undefined {
  const bare = flake.replace(/[?#].*$/, '');
  if (bare.startsWith('/')) return bare;
  if (bare.startsWith('path:/')) return bare.slice('path:'.length);
  if (bare.startsWith('git+file://')) return bare.slice('git+file://'.length);
  return undefined;
}

/** The commit a remote flake reference pins itself (`?rev=…`, `github:o/r/<commit>`), if any. */
export function pinnedRevision(flake: string): string | null {
  const rev = /[?&]rev=([0-9a-f]{7,40})\b/.exec(flake)?.[1];
  if (rev) return rev;
  return /^(?:github|gitlab|sourcehut):[^/]+\/[^/?#]+\/([0-9a-f]{40})(?:[?#]|$)/.exec(flake)?.[1] ?? null;
}

/**
 * The flake's git revision: HEAD of a local checkout, with `-dirty` when tracked files differ from
 * it (untracked files are invisible to a git flake); the commit a remote reference pins; null when
 * neither says (not a git checkout, a branch of a remote repository).
 */
export async function flakeRevision(flake: string, exec: Exec = execProcess): Promise<string | null> {
  const dir = localFlakeDir(flake);
  if (dir === undefined) return pinnedRevision(flake);
  // Run as root on a checkout of another user, git refuses "dubious ownership" without this.
  const git = (...args: string[]) => exec({ argv: ['git', '-c', 'safe.directory=*', '-C', dir, ...args], timeoutMs: 15_000 }).catch(() => undefined);
  const head = await git('rev-parse', '--verify', '--quiet', 'HEAD');
  const commit = head?.exitCode === 0 ? head.stdout.trim() : '';
  if (!/^[0-9a-f]{40,64}$/.test(commit)) return null;
  const status = await git('status', '--porcelain', '--untracked-files=no');
  if (status?.exitCode !== 0) return null;
  return status.stdout.trim() === '' ? commit : `${commit}-dirty`;
}

/** fleet's own version (package.json). */
export function fleetVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Everything the deploy history records about this run, from the environment and the flake. */
export async function provenanceFor(flake: string, env: Env, exec: Exec = execProcess): Promise<Provenance> {
  const ci = ciRunFromEnv(env);
  return {
    operator: operatorFrom(env, ci, { user: userInfo().username, machine: hostname() }),
    ci,
    revision: await flakeRevision(flake, exec),
    fleetVersion: fleetVersion(),
  };
}
