// Whether fleet runs in CI: one rule for every part that asks (plain output, colour, provenance).

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The variables by which the CIs fleet names in provenance (docs/ci.md) announce themselves, each
 * with the value it sets. Jenkins sets `JENKINS_URL` to a URL, so any value counts there.
 */
const VENDOR_VARIABLES: readonly [name: string, value: string | undefined][] = [
  ['GITHUB_ACTIONS', 'true'],
  ['GITLAB_CI', 'true'],
  ['BUILDKITE', 'true'],
  ['CIRCLECI', 'true'],
  ['JENKINS_URL', undefined],
];

/**
 * True when fleet runs in CI, by the convention of GitHub Actions and GitLab CI (which set
 * `CI=true`) and of the `ci-info` package: `CI=false` means "not CI" whatever else is set (so a
 * user can opt out in a CI job); otherwise a non-empty `CI` (or `CONTINUOUS_INTEGRATION`), or a
 * CI's own variable, means CI. An empty `CI` is unset.
 */
export function runsInCi(env: Env): boolean {
  if (env.CI === 'false') return false;
  if (env.CI || env.CONTINUOUS_INTEGRATION) return true;
  return VENDOR_VARIABLES.some(([name, value]) => (value === undefined ? Boolean(env[name]) : env[name] === value));
}
