// The small POSIX sh programs fleet runs on targets. Arguments are passed as argv ($1…), never spliced in.
import { SUDO_PASSWORD_SCRIPT } from '../ssh/escalation.js';

/**
 * The probe as a shell function: prints `key=value` facts the guards need, ending with `end=ok` so
 * a cut-off answer is recognised. Args: <toplevel, or - > <key dir> <key file names…>
 * [--secrets <digest key> <secret paths…>]. With a toplevel it also says whether that closure is
 * already in the target's store (`closure=`), so an unchanged or half-deployed host is not copied to
 * again. Key contents never leave the host: only sha256. Secrets answer `secret:<i>=<sha256 of the
 * digest key, then the content> <owner> <group> <octal mode>` (or `missing`): the digest key is a
 * random value fleet draws for each probe, so the answer says nothing about a secret to anyone
 * who does not already hold it, and is never the same twice. `printf` and `read` are builtins: no
 * argv. It runs on every first contact and every confirmation, so it starts as few programs as it
 * can (each costs the target a fork and an exec): links resolve with the shell's own cd -P.
 */
const PROBE_FUNCTION = `# Whether the closure of store path $1 is here. The live system and the boot default are GC roots,
# valid with their closures; a path that is not on disk is not valid: neither needs nix-store.
fleet_has_closure() {
  [ "$1" = "$current" ] || [ "$1" = "$profile" ] || { [ -e "$1" ] && nix-store --check-validity "$1" >/dev/null 2>&1; }
}
fleet_probe() {
kv() { printf '%s=%s\\n' "$1" "$2"; }
# Where a link leads, when it exists (GNU readlink -f prints a missing path as if it were there).
# Only ever called in $( ), so its cd changes nothing; readlink -f for a link to a file.
target() { if [ -e "$1" ]; then cd -P "$1" 2>/dev/null && pwd -P || readlink -f "$1"; fi; }
if [ -e /etc/NIXOS ]; then kv nixos yes; else kv nixos no; fi
current=$(target /run/current-system)
profile=$(target /nix/var/nix/profiles/system)
kv current "$current"
kv booted "$(target /run/booted-system)"
kv profile "$profile"
generation=$(readlink /nix/var/nix/profiles/system 2>/dev/null) || generation=
generation=\${generation#system-}; generation=\${generation%-link}
case "$generation" in ''|*[!0-9]*) generation= ;; esac
kv generation "$generation"
if [ -d /run/systemd/system ]; then kv systemd yes; else kv systemd no; fi
bootId=; read -r bootId 2>/dev/null < /proc/sys/kernel/random/boot_id || :
kv bootId "$bootId"
kv freeNixKiB "$(df -Pk /nix 2>/dev/null | { read -r fleet_skip && read -r fleet_skip fleet_skip fleet_skip free fleet_skip && printf '%s' "$free"; })"
top=$1; dest=$2; shift 2
if [ "$top" != - ]; then
  if fleet_has_closure "$top"; then kv closure present; else kv closure absent; fi
fi
secret=
for name in "$@"; do
  if [ "$secret" = key ]; then dkey=$name; secret=0; continue; fi
  if [ -n "$secret" ]; then
    if [ -f "$name" ]; then
      kv "secret:$secret" "$( { printf '%s' "$dkey"; cat "$name"; } | sha256sum | cut -d' ' -f1) $(stat -c '%U %G %a' "$name")"
    else kv "secret:$secret" missing; fi
    secret=$((secret + 1)); continue
  fi
  if [ "$name" = --secrets ]; then secret=key; continue; fi
  if [ -f "$dest/$name" ]; then kv "key:$name" "$(sha256sum "$dest/$name" | cut -d' ' -f1)"; else kv "key:$name" missing; fi
done
kv end ok
}`;

/** The probe alone. Args: as PROBE_FUNCTION. */
export const PROBE_SCRIPT = `set -u
${PROBE_FUNCTION}
fleet_probe "$@"
`;

/**
 * Writes key files read from stdin, one line each: `<name> <mode> <base64 content>`. Each goes
 * into a temporary file created under umask 077, owned by root, chmod'ed, then renamed into
 * place, so a half-written key is never live. `printf` is a shell builtin: the key never
 * appears in any process's argv. Args: <dest dir>.
 */
export const PUSH_KEYS_SCRIPT = `set -eu
umask 077
dest=$1
mkdir -p "$dest"
while IFS=' ' read -r name mode data; do
  case "$name" in ''|*/*|.*) echo "fleet: refusing key file name" >&2; exit 1;; esac
  tmp=$(mktemp "$dest/.fleet-key.XXXXXX")
  printf '%s' "$data" | base64 -d > "$tmp"
  chown 0:0 "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest/$name"
  echo "wrote $dest/$name"
done
`;

/**
 * Writes secret files. Args: <path> <owner> <group> <mode>, four words per secret of the upload.
 * First every owner and group must exist (else `missing-user=`/`missing-group=` lines and exit 3,
 * before anything is written), and no destination may be a directory or a link to one (`mv` would
 * put the file inside it: `directory=` lines and exit 4, before anything is written; checked again
 * right before each rename). Then stdin carries one record per file to write, `<index> <base64
 * content>`: each goes into a temporary file beside its destination (created 0600 under umask 077),
 * gets its owner, group and mode, and is renamed into place, so a half-written secret is never
 * live. `printf` is a shell builtin: the content never appears in any process's argv, and it is
 * never written anywhere but beside its destination.
 */
export const SECRETS_PUSH_SCRIPT = `set -eu
umask 077
tmp=
trap 'if [ -n "$tmp" ]; then rm -f "$tmp"; fi' EXIT
count=$(( $# / 4 ))
i=0; missing=0
directory=0
for word in "$@"; do
  case $(( i % 4 )) in
    0) if [ -d "$word" ]; then echo "directory=$word"; directory=1; fi ;;
    1) if ! id -u "$word" >/dev/null 2>&1; then echo "missing-user=$word"; missing=1; fi ;;
    2) if ! getent group "$word" >/dev/null 2>&1; then echo "missing-group=$word"; missing=1; fi ;;
  esac
  i=$(( i + 1 ))
done
[ "$missing" = 0 ] || exit 3
[ "$directory" = 0 ] || exit 4
while IFS=' ' read -r index data; do
  case $index in ''|*[!0-9]*) echo "fleet: bad secret record" >&2; exit 1 ;; esac
  [ "$index" -lt "$count" ] || { echo "fleet: bad secret record" >&2; exit 1; }
  eval "dest=\\\${$(( index * 4 + 1 ))} owner=\\\${$(( index * 4 + 2 ))} group=\\\${$(( index * 4 + 3 ))} mode=\\\${$(( index * 4 + 4 ))}"
  dir=$(dirname "$dest")
  [ -d "$dir" ] || (umask 022 && mkdir -p "$dir")
  tmp=$(mktemp "$dir/.fleet-secret.XXXXXX")
  printf '%s' "$data" | base64 -d > "$tmp"
  chown "$owner:$group" "$tmp"
  chmod "$mode" "$tmp"
  if [ -d "$dest" ]; then echo "directory=$dest"; exit 4; fi
  mv -f "$tmp" "$dest"
  tmp=
  echo "wrote $dest"
done
`;

/**
 * Appends one record (one JSON line, $2) to the history file ($1), atomically: under a flock, the
 * old file plus the new line goes to a temporary file in the same directory, owned by root, 0644,
 * synced, and renamed over the old one. A reader sees the old file or the new one, never half a
 * line; nothing already recorded is ever changed. Prints `recorded`. A function whose body is a
 * subshell: its `exit` and EXIT trap end only itself, so LOCK_SCRIPT can call it too.
 */
const APPEND_HISTORY_FUNCTION = `fleet_append_history() (
file=$1; record=$2
case "$record" in
  '{'*'}') ;;
  *) echo "fleet: refusing a history record that is not one JSON object" >&2; exit 1 ;;
esac
case "$record" in *'
'*) echo "fleet: refusing a history record of more than one line" >&2; exit 1 ;; esac
dir=\${file%/*}
umask 022
[ -d "$dir" ] || mkdir -p "$dir" || exit 1
exec 8>>"$dir/.history.lock" || exit 1
flock -w 30 8 || { echo "fleet: the history file stayed locked for 30s" >&2; exit 1; }
tmp=$(mktemp "$dir/.history.XXXXXX") || exit 1
trap 'rm -f "$tmp"' EXIT
if [ -f "$file" ]; then cat "$file" > "$tmp" || exit 1; fi
# A last line without its newline (cut off by hand) is ended, so the new record is a line of its own.
if [ -s "$tmp" ] && [ -n "$(tail -c 1 "$tmp")" ]; then printf '\\n' >> "$tmp" || exit 1; fi
printf '%s\\n' "$record" >> "$tmp" || exit 1
chown 0:0 "$tmp" || exit 1
chmod 0644 "$tmp" || exit 1
sync "$tmp" 2>/dev/null || sync
mv -f "$tmp" "$file" || exit 1
trap - EXIT
echo recorded
)`;

/** Seconds without a heartbeat byte after which the target drops a deploy lock (see LOCK_SCRIPT). */
export const LOCK_STALE_SECONDS = 60;

/**
 * Holds the deploy lock for as long as fleet's ssh session lives: flock on /run/fleet/deploy.lock,
 * released when stdin closes, or when no heartbeat byte has arrived for LOCK_STALE_SECONDS: a
 * connection that died without a FIN (a cut link) otherwise keeps sshd, and the lock, for hours.
 * Prints `locked` once held, then the probe's facts (one round trip for both), or `busy=<holder>`
 * and exits 75 after waiting. While held it answers `?<store path>` lines on stdin with
 * `closure=present|absent` (a session opened before the system was evaluated asks this later),
 * and appends a deploy's record to the history (`!<file>`, then the record, each a line) with
 * `history=recorded`, or `history=failed <why>`: no session of its own for it.
 * Args: <wait seconds> <holder description> <probe args…>.
 */
export const LOCK_SCRIPT = `set -u
${PROBE_FUNCTION}
${APPEND_HISTORY_FUNCTION}
[ -d /run/fleet ] || mkdir -p /run/fleet
exec 9>>/run/fleet/deploy.lock
if ! flock -w "$1" 9; then
  printf 'busy=%s\\n' "$(cat /run/fleet/deploy.lock.info 2>/dev/null || echo unknown)"
  exit 75
fi
printf '%s since %s\\n' "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > /run/fleet/deploy.lock.info
echo locked
shift 2
fleet_probe "$@"
# A byte at a time: "." is a heartbeat; "?" is followed by a store path and a newline, and asks
# whether that closure is here; "!" by a history file and a record, each on a line, to append
# (read reads up to the newline only, so no heartbeat is lost).
while beat=$(timeout ${LOCK_STALE_SECONDS} dd bs=1 count=1 2>/dev/null) && [ -n "$beat" ]; do
  if [ "$beat" = "?" ]; then
    IFS= read -r path || break
    if fleet_has_closure "$path"; then echo closure=present; else echo closure=absent; fi
  elif [ "$beat" = "!" ]; then
    IFS= read -r file || break
    IFS= read -r record || break
    if why=$(fleet_append_history "$file" "$record" 2>&1 </dev/null); then echo history=recorded
    else printf 'history=failed %s\\n' "$(printf '%s\\n' "$why" | tail -n 1)"; fi
  fi
done
rm -f /run/fleet/deploy.lock.info
`;

/**
 * Arms the rollback watchdog, detached from the ssh session (systemd-run where systemd runs,
 * else setsid). It records the live system and the profile generation first; after <timeout>
 * seconds without /run/fleet/confirm-<id> it switches back to them. Prints `armed=<generation>`.
 * Args: <id> <timeout seconds> <mode switch|test>.
 */
export const ARM_WATCHDOG_SCRIPT = `set -eu
id=$1; timeout=$2; mode=$3
# The shell's own cd -P resolves the link, as the probe does (no readlink, no sed: fewer programs).
previous=$(cd -P /run/current-system 2>/dev/null && pwd -P || true)
generation=$(readlink /nix/var/nix/profiles/system 2>/dev/null) || generation=
generation=\${generation#system-}; generation=\${generation%-link}
case "$generation" in ''|*[!0-9]*) generation= ;; esac
[ -n "$previous" ] || { echo "no live system to roll back to" >&2; exit 1; }
[ -d /run/fleet ] || mkdir -p /run/fleet
watch='set -u
id=$1; timeout=$2; mode=$3; previous=$4; generation=$5
# The confirming connection wakes the loop with USR1 (trapped before the pid file says it runs).
trap : USR1
echo $$ > /run/fleet/watchdog-$id.pid
# Looks for the confirmation five times a second, and at once when woken, until the clock, not a
# count of sleeps, says the time is up. A trapped signal ends "wait", never "sleep". The clock is
# the uptime of the kernel, read without a program: it is monotonic, so an activation that steps
# the wall clock (a time daemon starting) neither fires the watchdog early nor holds it back.
# In hundredths of a second (/proc/uptime has two decimals; "1xx - 100" keeps "05" from reading as octal).
# (No apostrophe in this script: it is one single-quoted word of the arming script.)
if [ -r /proc/uptime ]; then clock() { read -r now rest < /proc/uptime; now=$(( \${now%.*} * 100 + 1\${now#*.} - 100 )); }
else clock() { now=$(( $(date +%s) * 100 )); }; fi
clock; end=$((now + timeout * 100))
while clock; [ "$now" -lt "$end" ]; do
  if [ -e /run/fleet/confirm-$id ]; then rm -f /run/fleet/confirm-$id /run/fleet/watchdog-$id.pid; exit 0; fi
  sleep 0.2 & wait $! || :
done
if [ -e /run/fleet/confirm-$id ]; then rm -f /run/fleet/confirm-$id /run/fleet/watchdog-$id.pid; exit 0; fi
{
  echo "fleet watchdog $id: no confirmation after $timeout s, rolling back to $previous"
  if [ "$mode" = switch ] && [ -n "$generation" ]; then
    nix-env -p /nix/var/nix/profiles/system --switch-generation "$generation"
    "$(readlink -f /nix/var/nix/profiles/system)/bin/switch-to-configuration" boot || true
  fi
  "$previous/bin/switch-to-configuration" test
  echo "rolled back"
} >> /run/fleet/watchdog-$id.log 2>&1
echo "$previous" > /run/fleet/rolled-back-$id
rm -f /run/fleet/watchdog-$id.pid'
if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then
  systemd-run --unit="fleet-watchdog-$id" --collect --quiet --no-ask-password --service-type=exec --setenv=PATH="$PATH" \\
    sh -c "$watch" fleet-watchdog "$id" "$timeout" "$mode" "$previous" "$generation"
else
  setsid sh -c "$watch" fleet-watchdog "$id" "$timeout" "$mode" "$previous" "$generation" </dev/null >/dev/null 2>&1 &
fi
i=0
while [ ! -e /run/fleet/watchdog-$id.pid ] && [ "$i" -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
[ -e /run/fleet/watchdog-$id.pid ] || { echo "the watchdog did not start" >&2; exit 1; }
printf 'armed=%s\\nprevious=%s\\n' "$generation" "$previous"
`;

/**
 * Confirms (disarms) a watchdog and waits for it to exit, leaving nothing behind, then answers the
 * probe: proof of a fresh connection and of what runs, in one round trip. Prints `confirmed`, or
 * `fired=<system>` when it had already rolled back, then the probe's facts. Args: <id> <probe args…>.
 */
export const CONFIRM_WATCHDOG_SCRIPT = `set -u
${PROBE_FUNCTION}
id=$1; shift
answer() { printf '%s\\n' "$1"; shift; fleet_probe "$@"; exit 0; }
if [ -e /run/fleet/rolled-back-$id ]; then answer "fired=$(cat /run/fleet/rolled-back-$id)" "$@"; fi
: > /run/fleet/confirm-$id
# Wake the watchdog from its sleep; only the process whose argv has this deploy id (a stale pid
# file must not signal whatever took that pid since).
pid=; read -r pid 2>/dev/null < /run/fleet/watchdog-$id.pid || :
if [ -n "$pid" ] && grep -q "$id" "/proc/$pid/cmdline" 2>/dev/null; then kill -USR1 "$pid" 2>/dev/null || :; fi
i=0
while [ -e /run/fleet/watchdog-$id.pid ] && [ "$i" -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
if [ -e /run/fleet/rolled-back-$id ]; then answer "fired=$(cat /run/fleet/rolled-back-$id)" "$@"; fi
if [ -e /run/fleet/watchdog-$id.pid ]; then echo "the watchdog did not stop" >&2; exit 1; fi
rm -f /run/fleet/confirm-$id
answer confirmed "$@"
`;

/**
 * The bash nixos-rebuild's sequence on its target (CONTRACTS.md), with $top and $mode set: the
 * profile for switch and boot, then switch-to-configuration under systemd-run where systemd runs (a
 * dropped session cannot kill it half way), else directly with a clean environment. Exits with
 * switch-to-configuration's status (0, 4 units failed, 100 reboot required).
 */
const ACTIVATE_BODY = `case "$mode" in
  switch|boot) nix-env -p /nix/var/nix/profiles/system --set "$top" || exit 1 ;;
esac
if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then
  exec systemd-run -E LOCALE_ARCHIVE -E NIXOS_INSTALL_BOOTLOADER= --collect --no-ask-password --pipe --quiet \\
    --same-dir --service-type=exec --unit=nixos-rebuild-switch-to-configuration --wait "$run/bin/switch-to-configuration" "$mode"
fi
exec env -i LOCALE_ARCHIVE= NIXOS_INSTALL_BOOTLOADER= "$run/bin/switch-to-configuration" "$mode"
`;

/** The exit status of an activation whose specialisation is not in the built system. */
export const SPECIALISATION_MISSING = 97;

/**
 * Sets $run, the system whose switch-to-configuration runs: $top, or its specialisation $spec
 * (nixos-rebuild's --specialisation: the profile, and so the boot default, stays $top). A missing
 * one exits SPECIALISATION_MISSING before anything changes (fleet checks it first too: see
 * SPECIALISATION_SCRIPT).
 */
const ACTIVATED_SYSTEM = `run=$top
if [ -n "$spec" ]; then
  run=$top/specialisation/$spec
  [ -x "$run/bin/switch-to-configuration" ] || { echo "specialisation not found: $spec" >&2; exit ${SPECIALISATION_MISSING}; }
fi
`;

/**
 * Whether the built system has specialisation $2 on the target, before anything is activated:
 * \`specialisation=<its store path>\` (the system the host then runs live), or \`missing\` and
 * \`available=<the names it has>\`. Args: <toplevel> <name>.
 */
export const SPECIALISATION_SCRIPT = `set -u
top=$1; name=$2
dir=$top/specialisation/$name
if [ -x "$dir/bin/switch-to-configuration" ]; then
  printf 'specialisation=%s\\n' "$(cd -P "$dir" && pwd -P)"
else
  echo missing
  names=
  if [ -d "$top/specialisation" ]; then for entry in "$top"/specialisation/*; do [ -e "$entry" ] && names="$names \${entry##*/}"; done; fi
  printf 'available=%s\\n' "\${names# }"
fi
`;

/**
 * Activates a prebuilt system the way the bash nixos-rebuild does on its target (ACTIVATE_BODY).
 * Args: <toplevel> <switch|boot|test|dry-activate> [<specialisation>].
 */
export const ACTIVATE_SCRIPT = `set -u
top=$1; mode=$2; spec=\${3:-}
${ACTIVATED_SYSTEM}${ACTIVATE_BODY}`;

/** Seconds arming the watchdog may take (ARM_WATCHDOG_SCRIPT), as its own call or inside ARMED_ACTIVATE_SCRIPT. */
export const ARM_TIMEOUT_SECONDS = 60;

/**
 * Arms the rollback watchdog, then activates as ACTIVATE_SCRIPT does: one call on the target for
 * both (the bash flavour, where both are fleet's own scripts). The arming script comes as $1 and
 * runs in its own sh, where its set -e holds, for ARM_TIMEOUT_SECONDS at most; when it fails (it
 * printed no `armed=`), nothing is activated.
 * Args: <arm script> <deploy id> <timeout seconds> <toplevel> <switch|test> [<specialisation>].
 */
export const ARMED_ACTIVATE_SCRIPT = `set -u
top=$4; mode=$5; spec=\${6:-}
${ACTIVATED_SYSTEM}timeout ${ARM_TIMEOUT_SECONDS} sh -c "$1" fleet-arm "$2" "$3" "$mode" || exit 1
${ACTIVATE_BODY}`;

/**
 * Where each host keeps its deploy history: under /nix/var, which persists wherever the system
 * profile and its generations do, also on hosts that wipe / or /var at boot (impermanence).
 */
export const HISTORY_FILE = '/nix/var/fleet/history.jsonl';

/** Appends one record to a history file (APPEND_HISTORY_FUNCTION). Args: <file> <record>. */
export const APPEND_HISTORY_SCRIPT = `set -u
${APPEND_HISTORY_FUNCTION}
fleet_append_history "$1" "$2"
`;

/**
 * Prints the newest history record of a system (args: <history file> <store path>) as
 * `history=<json>`, nothing when there is none. Records are compact JSON, so the system's exact
 * `"system":"<path>"` finds them.
 */
export const HISTORY_OF_FUNCTION = `fleet_history_of() {
if [ -n "$2" ] && [ -f "$1" ]; then
  grep -F "\\"system\\":\\"$2\\"" "$1" | tail -n 1 | sed 's/^/history=/'
fi
}`;

/**
 * fleet status's probe: the newest history record of the live system (as \`history=<json>\`), then
 * the probe's facts, in one round trip. Args: <history file> <probe args…>.
 */
export const STATUS_PROBE_SCRIPT = `set -u
${PROBE_FUNCTION}
${HISTORY_OF_FUNCTION}
file=$1; shift
live=$( [ -e /run/current-system ] && readlink -f /run/current-system || true)
fleet_history_of "$file" "$live"
fleet_probe "$@"
`;

/** Every remote script by a short name, so displays can show `<probe script>` instead of its body. */
/**
 * The closures of the system the target runs and of the built one, with NAR sizes, for the diff:
 * `from <live system>`, `to <built>`, then (when they differ) `paths from` / `sizes from` and
 * `paths to` / `sizes to` sections, one path or size a line in the same order, and `end ok`.
 * nix-store's query interface, not `nix store diff-closures`: it needs no experimental feature and
 * answers alike on every Nix. Args: <built toplevel>.
 */
export const DIFF_SCRIPT = `set -uf
to=$1
from=
if [ -e /run/current-system ]; then from=$(readlink -f /run/current-system); fi
printf 'from %s\\nto %s\\n' "$from" "$to"
closure() {
  paths=$(nix-store --query --requisites "$2") || exit 3
  printf 'paths %s\\n%s\\nsizes %s\\n' "$1" "$paths" "$1"
  # Store paths hold no blanks: the list splits into one word per path.
  nix-store --query --size $paths || exit 3
}
if [ -n "$from" ] && [ "$from" != "$to" ]; then
  closure from "$from"
  closure to "$to"
fi
echo 'end ok'
`;

export const REMOTE_SCRIPTS: Readonly<Record<string, string>> = {
  probe: PROBE_SCRIPT,
  'push-keys': PUSH_KEYS_SCRIPT,
  'push-secrets': SECRETS_PUSH_SCRIPT,
  lock: LOCK_SCRIPT,
  'arm-watchdog': ARM_WATCHDOG_SCRIPT,
  'confirm-watchdog': CONFIRM_WATCHDOG_SCRIPT,
  activate: ACTIVATE_SCRIPT,
  'armed-activate': ARMED_ACTIVATE_SCRIPT,
  diff: DIFF_SCRIPT,
  'append-history': APPEND_HISTORY_SCRIPT,
  'status-probe': STATUS_PROBE_SCRIPT,
  'sudo-password': SUDO_PASSWORD_SCRIPT,
  specialisation: SPECIALISATION_SCRIPT,
};
