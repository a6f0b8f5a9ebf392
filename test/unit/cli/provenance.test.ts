// Who deploys what: the CI run and operator from the environment, the flake's revision from git.
import { describe, expect, it } from 'vitest';
import type { Exec, ExecRequest } from '../../../src/exec/index.js';
import { ciRunFromEnv, flakeRevision, localFlakeDir, operatorFrom, pinnedRevision, withoutCredentials } from '../../../src/cli/provenance.js';

describe('ciRunFromEnv', () => {
  it.each([
    [
      'GitHub Actions',
      { GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'octocat', GITHUB_SERVER_URL: 'https://github.com/', GITHUB_REPOSITORY: 'acme/infra', GITHUB_RUN_ID: '42', GITHUB_TOKEN: 'ghs_secret' },
      { system: 'github-actions', actor: 'octocat', runUrl: 'https://github.com/acme/infra/actions/runs/42' },
    ],
    [
      'Forgejo Actions (GitHub-compatible variables)',
      { GITHUB_ACTIONS: 'true', FORGEJO_ACTIONS: 'true', GITHUB_ACTOR: 'ana', GITHUB_SERVER_URL: 'https://code.example', GITHUB_REPOSITORY: 'ops/fleet', GITHUB_RUN_ID: '7' },
      { system: 'forgejo-actions', actor: 'ana', runUrl: 'https://code.example/ops/fleet/actions/runs/7' },
    ],
    [
      'GitLab CI',
      { GITLAB_CI: 'true', CI: 'true', GITLAB_USER_LOGIN: 'bob', CI_JOB_URL: 'https://gitlab.com/acme/infra/-/jobs/9', CI_JOB_TOKEN: 'glcbt-secret' },
      { system: 'gitlab-ci', actor: 'bob', runUrl: 'https://gitlab.com/acme/infra/-/jobs/9' },
    ],
    ['Buildkite', { BUILDKITE: 'true', BUILDKITE_BUILD_CREATOR: 'Carol', BUILDKITE_BUILD_URL: 'https://buildkite.com/acme/deploy/builds/3' }, { system: 'buildkite', actor: 'Carol', runUrl: 'https://buildkite.com/acme/deploy/builds/3' }],
    ['Jenkins with credentials in its URL', { JENKINS_URL: 'https://ci/', BUILD_URL: 'https://admin:hunter2@ci.example/job/deploy/5/' }, { system: 'jenkins', actor: null, runUrl: 'https://ci.example/job/deploy/5/' }],
    ['another CI', { CI: 'true' }, { system: 'ci', actor: null, runUrl: null }],
  ])('%s', (_name, env, expected) => {
    const run = ciRunFromEnv(env);
    expect(run).toEqual(expected);
    expect(JSON.stringify(run)).not.toMatch(/secret|hunter2/);
  });

  it('is null outside CI', () => {
    expect(ciRunFromEnv({ HOME: '/root', GITHUB_ACTIONS: '' })).toBeNull();
  });
});

describe('operatorFrom', () => {
  const local = { user: 'alice', machine: 'laptop' };
  it('is user@machine locally, the CI actor in CI, $FLEET_OPERATOR when set; one line always', () => {
    expect(operatorFrom({}, null, local)).toBe('alice@laptop');
    expect(operatorFrom({}, { system: 'github-actions', actor: 'octocat', runUrl: null }, local)).toBe('octocat');
    expect(operatorFrom({}, { system: 'ci', actor: null, runUrl: null }, local)).toBe('alice@laptop');
    expect(operatorFrom({ FLEET_OPERATOR: 'release bot\nrm -rf' }, null, local)).toBe('release bot rm -rf');
  });
});

describe('the flake revision', () => {
  it('knows local flakes and the commits remote references pin', () => {
    expect(localFlakeDir('/srv/infra')).toBe('/srv/infra');
    expect(localFlakeDir('path:/srv/infra?dir=x')).toBe('/srv/infra');
    expect(localFlakeDir('git+file:///srv/infra?ref=main')).toBe('/srv/infra');
    expect(localFlakeDir('github:acme/infra')).toBeUndefined();
    const commit = 'a'.repeat(40);
    expect(pinnedRevision(`github:acme/infra/${commit}`)).toBe(commit);
    expect(pinnedRevision(`git+https://git.example/infra?ref=main&rev=${commit}`)).toBe(commit);
    expect(pinnedRevision('github:acme/infra/main')).toBeNull();
    expect(withoutCredentials('git+https://tok:x@git.example/r')).toBe('git+https://git.example/r');
  });

  function fakeGit(answers: { head?: string; status?: string; headExit?: number }): { exec: Exec; calls: string[][] } {
    const calls: string[][] = [];
    const exec: Exec = async (request: ExecRequest) => {
      calls.push([...request.argv]);
      const isHead = request.argv.includes('rev-parse');
      const stdout = isHead ? `${answers.head ?? ''}\n` : (answers.status ?? '');
      return { exitCode: isHead ? (answers.headExit ?? 0) : 0, signal: null, stdout, stderr: '', timedOut: false };
    };
    return { exec, calls };
  }

  it('is HEAD of a clean checkout, with -dirty when tracked files changed, null outside git', async () => {
    const commit = '0123456789abcdef0123456789abcdef01234567';
    const clean = fakeGit({ head: commit, status: '' });
    expect(await flakeRevision('/srv/infra', clean.exec)).toBe(commit);
    expect(clean.calls[0]).toEqual(['git', '-c', 'safe.directory=*', '-C', '/srv/infra', 'rev-parse', '--verify', '--quiet', 'HEAD']);
    expect(clean.calls[1]).toEqual(['git', '-c', 'safe.directory=*', '-C', '/srv/infra', 'status', '--porcelain', '--untracked-files=no']);
    expect(await flakeRevision('/srv/infra', fakeGit({ head: commit, status: ' M hosts/web.nix\n' }).exec)).toBe(`${commit}-dirty`);
    expect(await flakeRevision('/srv/infra', fakeGit({ headExit: 128 }).exec)).toBeNull();
    const remote = fakeGit({});
    expect(await flakeRevision('github:acme/infra', remote.exec)).toBeNull();
    expect(remote.calls).toEqual([]);
  });
});
