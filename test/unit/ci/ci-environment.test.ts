// One rule for "in CI", the one GitHub Actions, GitLab CI and ci-info use: CI=false is not CI.
import { describe, expect, it } from 'vitest';
import { runsInCi } from '../../../src/ci-environment.js';
import { ciRunFromEnv } from '../../../src/cli/provenance.js';
import { chooseReporterMode, useColor } from '../../../src/ui/index.js';

describe('runsInCi', () => {
  it.each([
    [{}, false],
    [{ CI: '' }, false],
    [{ CI: 'false' }, false],
    [{ CI: 'false', GITHUB_ACTIONS: 'true' }, false],
    [{ CI: 'false', JENKINS_URL: 'https://ci/' }, false],
    [{ CI: 'true' }, true],
    [{ CI: '1' }, true],
    [{ CI: 'woodpecker' }, true],
    [{ CONTINUOUS_INTEGRATION: 'true' }, true],
    [{ GITHUB_ACTIONS: 'true' }, true],
    [{ GITHUB_ACTIONS: '' }, false],
    [{ GITLAB_CI: 'true' }, true],
    [{ JENKINS_URL: 'https://ci/' }, true],
  ] as [Record<string, string>, boolean][])('%o → %s', (env, ci) => {
    expect(runsInCi(env)).toBe(ci);
  });

  it('CI=false is not CI anywhere: the live view and colour on a terminal, no CI in the provenance', () => {
    const env = { CI: 'false', GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'octocat' };
    const mode = chooseReporterMode({ isTTY: true, ci: runsInCi(env), json: false });
    expect(mode).toBe('tty');
    expect(useColor(mode, env)).toBe(true);
    expect(ciRunFromEnv(env)).toBeNull();
  });

  it('CI=true (or 1) is CI everywhere: plain lines, no colour, a CI run in the provenance', () => {
    for (const CI of ['true', '1']) {
      const mode = chooseReporterMode({ isTTY: true, ci: runsInCi({ CI }), json: false });
      expect(mode).toBe('plain');
      expect(useColor('tty', { CI })).toBe(false);
      expect(ciRunFromEnv({ CI })).toEqual({ system: 'ci', actor: null, runUrl: null });
    }
  });
});
