// A host's reboot as planned commands: `fleet reboot` runs exactly these (the boot id before, the
// reboot, the bounded wait for a new boot id, then its secrets restored), so `fleet plan` shows them.
import { FRESH_CONNECTION, type SshSettings } from '../ssh/index.js';
import { probeCommand, pushSecretsCommand } from './commands.js';
import { oneShotSsh, rebootCommand } from './operate-scripts.js';
import type { HostPlan, PlannedCommand, SecretsStep } from './types.js';

/**
 * ssh's ConnectTimeout of a probe that polls until a deadline: the run fills in
 * `ConnectTimeout=<seconds>`, at most the ssh settings' own and never past the deadline.
 */
const POLL_CONNECT_TIMEOUT = 'ConnectTimeout=<connectTimeout>';

/** The value of a polling probe's `<connectTimeout>`: the ssh option word for these seconds. */
export function connectTimeoutOption(seconds: number): string {
  return `ConnectTimeout=${seconds}`;
}

/**
 * After a reboot emptied /run/keys: one probe asks the keyed digests of every secret destination
 * (`<digestKey>`: a fresh key of this restore), then the host's uploads send what is not in place.
 */
export interface SecretRestore {
  digests: PlannedCommand;
  /** The host's secrets with their uploads over one-shot connections (before-activation ones first). */
  upload: SecretsStep;
}

/**
 * One host's reboot: a fresh probe reads the boot id, the reboot command runs (ssh losing its
 * connection meanwhile is expected), then a fresh probe is polled until the host answers with a
 * new boot id on its boot default, at most `waitSeconds` after the reboot was issued; then, when
 * the host has secrets, they are restored.
 */
export interface RebootStep {
  kind: 'reboot';
  guard: string;
  /** Over a fresh connection: the boot id before the reboot (a host that does not answer is not rebooted). */
  before: PlannedCommand;
  /** `systemctl reboot` where systemd runs, else `reboot`. */
  reboot: PlannedCommand;
  /** Polled over fresh connections until the boot id changes; `<connectTimeout>` shrinks to the time left. */
  wait: PlannedCommand;
  /** ssh's connect timeout of the host (seconds): `<connectTimeout>` is at most this. */
  connectTimeoutSeconds: number;
  /** Seconds from issuing the reboot until the host must answer with a new boot id (--wait-timeout). */
  waitSeconds: number;
  /** Present for a host with secrets: read here before the reboot, uploaded again once it is back. */
  restoreSecrets?: SecretRestore;
}

/** What `fleet reboot` runs on one host, or why it never reboots it. */
export type FleetRebootPlan = { host: string; reboot: RebootStep } | { host: string; never: string };

/** The secret restore of a host with secrets, its uploads built for these (one-shot) settings. */
export function secretRestoreCommands(ssh: SshSettings, secrets: SecretsStep): SecretRestore {
  const upload = (secretsOfUpload: SecretsStep['secrets'], when: string) => ({ secrets: secretsOfUpload, push: pushSecretsCommand(ssh, secretsOfUpload, true, `again (${when} ones)`) });
  const step: SecretsStep = {
    kind: 'secrets',
    guard:
      'sources read on this machine before the reboot (a failing source: the host is not rebooted); once it is back, only files missing or different on the target ' +
      '(keyed digest, owner, group, mode) are uploaded, before-activation ones first',
    secrets: secrets.secrets,
    // Restoring is uploading, whatever the host's mode (dry-activate compares only during a deploy).
    uploads: true,
  };
  if (secrets.beforeActivation) step.beforeActivation = upload(secrets.beforeActivation.secrets, 'before-activation');
  if (secrets.afterActivation) step.afterActivation = upload(secrets.afterActivation.secrets, 'after-activation');
  return {
    digests: probeCommand(ssh, { closure: false, keyDir: '/etc/ssh', keyNames: [], secrets: secrets.secrets.map((s) => s.destination) }, [], 'secret digests'),
    upload: step,
  };
}

/** The commands of one host's reboot over one-shot connections, bounded by `waitSeconds`. */
export function rebootCommands(ssh: SshSettings, waitSeconds: number, secrets?: SecretsStep): RebootStep {
  const once = oneShotSsh(ssh);
  const polled = probeCommand(once, undefined, [POLL_CONNECT_TIMEOUT, ...FRESH_CONNECTION], 'wait for a new boot id');
  return {
    kind: 'reboot',
    guard: `a new boot id within ${waitSeconds}s of the reboot, on its boot default (/run/booted-system is the system profile)`,
    before: probeCommand(once, undefined, [connectTimeoutOption(ssh.connectTimeout), ...FRESH_CONNECTION], 'boot id before the reboot'),
    reboot: { purpose: 'reboot', argv: rebootCommand(once) },
    // The one word sshOptions put first for it becomes the run-time ref.
    wait: { ...polled, argv: polled.argv.map((word) => (word === POLL_CONNECT_TIMEOUT ? { ref: 'connectTimeout' } : word)) },
    connectTimeoutSeconds: ssh.connectTimeout,
    waitSeconds,
    ...(secrets ? { restoreSecrets: secretRestoreCommands(once, secrets) } : {}),
  };
}

/** The plan of `fleet reboot` for one host (`fleet plan --for reboot` prints it). */
export function fleetRebootPlan(host: HostPlan, waitSeconds: number): FleetRebootPlan {
  if (!host.ssh) return { host: host.name, never: `${host.name} is the local machine: fleet will not reboot the machine it runs on` };
  return { host: host.name, reboot: rebootCommands(host.ssh, waitSeconds, 'never' in host.secrets ? undefined : host.secrets) };
}
