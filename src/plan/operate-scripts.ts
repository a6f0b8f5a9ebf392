// The remote scripts and pure argv builders of the operating commands (status, check, exec, ssh,
// generations, rollback, reboot, install). Arguments reach scripts as $1…, never spliced in.
import type { HealthCheck, ToolCommands } from '../manifest/inventory.js';
import { FRESH_CONNECTION, quoteRemoteCommand, sshBase, asRoot, type SshSettings } from '../ssh/index.js';
import { HISTORY_FILE } from './remote-scripts.js';

/** The system profile whose generations fleet lists and switches. */
export const SYSTEM_PROFILE = '/nix/var/nix/profiles/system';

/**
 * Host health facts as `key=value` lines ending with `end=ok`: load average, uptime (seconds),
 * failed systemd units (`failed=n/a` without systemd), free and total KiB of / and /nix.
 */
export const CHECK_SCRIPT = `set -u
kv() { printf '%s=%s\\n' "$1" "$2"; }
kv load "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
kv uptime "$(cut -d' ' -f1 /proc/uptime 2>/dev/null | cut -d. -f1)"
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  kv systemd yes
  kv failed "$(systemctl list-units --state=failed --no-legend --plain 2>/dev/null | awk '{print $1}' | tr '\\n' ' ')"
else
  kv systemd no
  kv failed n/a
fi
for mp in / /nix; do
  df -Pk "$mp" 2>/dev/null | awk -v mp="$mp" 'NR==2 {printf "df:%s=%s %s\\n", mp, $4, $2}'
done
kv end ok
`;

/**
 * The system generations: `nix-env --list-generations` (number, date) as `list=` lines, every
 * `system-N-link` resolved as `link=N <path>`, then the live, booted and boot-default systems.
 */
export const GENERATIONS_SCRIPT = `set -u
profile=$1
nix-env -p "$profile" --list-generations 2>&1 | sed 's/^/list=/'
for link in "$profile"-*-link; do
  [ -e "$link" ] || continue
  n=$(basename "$link" | sed -n 's/^.*-\\([0-9][0-9]*\\)-link$/\\1/p')
  [ -n "$n" ] && printf 'link=%s %s\\n' "$n" "$(readlink -f "$link")"
done
if [ -f "$2" ]; then tail -n 5000 "$2" | sed 's/^/history=/'; fi
printf 'default=%s\\n' "$(readlink "$profile" 2>/dev/null | sed -n 's/^.*-\\([0-9][0-9]*\\)-link$/\\1/p')"
printf 'current=%s\\n' "$( [ -e /run/current-system ] && readlink -f /run/current-system)"
printf 'booted=%s\\n' "$( [ -e /run/booted-system ] && readlink -f /run/booted-system)"
echo end=ok
`;

/** A host's deploy history, every line as `record=<json>`, then `end=ok`. Args: <history file>. */
export const HISTORY_SCRIPT = `set -u
if [ -f "$1" ]; then sed 's/^/record=/' "$1" || exit 1; fi
echo end=ok
`;

/**
 * Makes generation <n> the boot default and activates it: `nix-env --switch-generation`, then the
 * generation's own switch-to-configuration <action>, whose exit status this script returns.
 * Args: <profile> <generation> <switch|boot>.
 */
export const ROLLBACK_SCRIPT = `set -u
profile=$1; generation=$2; action=$3
nix-env -p "$profile" --switch-generation "$generation" || exit 1
system=$(readlink -f "$profile")
echo "system=$system"
if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then
  exec systemd-run -E LOCALE_ARCHIVE -E NIXOS_INSTALL_BOOTLOADER --collect --no-ask-password --pipe --quiet \\
    --service-type=exec --unit="fleet-rollback-$$" "$system/bin/switch-to-configuration" "$action"
fi
exec "$system/bin/switch-to-configuration" "$action"
`;

/** Reboots: `systemctl reboot` where systemd runs, else `reboot`. */
export const REBOOT_SCRIPT = `if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  exec systemctl reboot
fi
exec reboot
`;

/** The operating commands' scripts by name, for `fleet plan` to show them as `<name script>`. */
export const OPERATE_SCRIPTS: Readonly<Record<string, string>> = {
  check: CHECK_SCRIPT,
  generations: GENERATIONS_SCRIPT,
  history: HISTORY_SCRIPT,
  rollback: ROLLBACK_SCRIPT,
  reboot: REBOOT_SCRIPT,
};

/** ssh running a remote argv as root (quoted once, escalated for a non-root user), or the argv itself locally. */
export function onTargetArgv(ssh: SshSettings | undefined, remote: readonly string[], overrides: string[] = []): string[] {
  if (!ssh) return [...remote];
  return [...sshBase(ssh, overrides), quoteRemoteCommand(asRoot(ssh, remote))];
}

/** ssh settings for a one-shot command: no shared master connection is left behind. */
export function oneShotSsh(ssh: SshSettings): SshSettings {
  return { ...ssh, controlDir: undefined };
}

export function checkCommand(ssh: SshSettings | undefined): string[] {
  return onTargetArgv(ssh, ['sh', '-c', CHECK_SCRIPT, 'fleet-check']);
}

/** One health check, bounded on the target by `timeout` (exit 124 when it ran out). */
export function healthCheckCommand(ssh: SshSettings | undefined, check: HealthCheck): string[] {
  return onTargetArgv(ssh, ['timeout', String(check.timeout), ...check.command]);
}

export function generationsCommand(ssh: SshSettings | undefined): string[] {
  return onTargetArgv(ssh, ['sh', '-c', GENERATIONS_SCRIPT, 'fleet-generations', SYSTEM_PROFILE, HISTORY_FILE]);
}

export function historyCommand(ssh: SshSettings | undefined): string[] {
  return onTargetArgv(ssh, ['sh', '-c', HISTORY_SCRIPT, 'fleet-history', HISTORY_FILE]);
}

export function rollbackCommand(ssh: SshSettings | undefined, generation: number, action: 'switch' | 'boot'): string[] {
  if (!Number.isInteger(generation) || generation < 1) throw new Error(`not a generation number: ${generation}`);
  return onTargetArgv(ssh, ['sh', '-c', ROLLBACK_SCRIPT, 'fleet-rollback', SYSTEM_PROFILE, String(generation), action]);
}

export function rebootCommand(ssh: SshSettings | undefined): string[] {
  return onTargetArgv(ssh, ['sh', '-c', REBOOT_SCRIPT, 'fleet-reboot']);
}

/**
 * The user's command for `fleet exec` / `fleet ssh -- cmd`, run as the ssh user (no sudo): several
 * words run as they are, one word runs with `sh -c` (like a manifest health check given as a string).
 */
export function userCommandArgv(command: readonly string[]): string[] {
  if (command.length === 0) throw new Error('no command given');
  return command.length === 1 ? ['sh', '-c', command[0] as string] : [...command];
}

/** ssh for `fleet exec` on one host (fresh connection, no sharing). */
export function execCommand(ssh: SshSettings, command: readonly string[]): string[] {
  return [...sshBase(oneShotSsh(ssh), FRESH_CONNECTION), quoteRemoteCommand(userCommandArgv(command))];
}

/** ssh for `fleet ssh`: a login shell (ssh gives it a terminal when ours is one), or one command. */
export function interactiveSshCommand(ssh: SshSettings, command: readonly string[]): string[] {
  const base = sshBase(oneShotSsh(ssh), FRESH_CONNECTION);
  // BatchMode stays: fleet connects with keys only, and a prompt would hang CI.
  return command.length === 0 ? base : [...base, quoteRemoteCommand(userCommandArgv(command))];
}

/** nixos-install of a prebuilt system into a mounted root. */
export function nixosInstallCommand(commands: ToolCommands, root: string, system: string): string[] {
  return [...commands.nixosInstall, '--root', root, '--system', system, '--no-root-passwd'];
}
