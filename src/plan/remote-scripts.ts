// The small POSIX sh programs fleet runs on targets. Arguments are passed as argv ($1…), never spliced in.

/**
 * Prints `key=value` facts the guards need, ending with `end=ok` so a cut-off answer is
 * recognised. Args: <key dir> <key file names…>. Key contents never leave the host: only sha256.
 */
export const PROBE_SCRIPT = `set -u
kv() { printf '%s=%s\\n' "$1" "$2"; }
if [ -e /etc/NIXOS ]; then kv nixos yes; else kv nixos no; fi
kv current "$(readlink -f /run/current-system 2>/dev/null || true)"
kv booted "$(readlink -f /run/booted-system 2>/dev/null || true)"
kv profile "$(readlink -f /nix/var/nix/profiles/system 2>/dev/null || true)"
kv generation "$(readlink /nix/var/nix/profiles/system 2>/dev/null | sed -n 's/^system-\\([0-9]*\\)-link$/\\1/p')"
if [ -d /run/systemd/system ]; then kv systemd yes; else kv systemd no; fi
kv bootId "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || true)"
kv freeNixKiB "$(df -Pk /nix 2>/dev/null | awk 'NR==2 {print $4}')"
dest=$1; shift
for name in "$@"; do
  if [ -f "$dest/$name" ]; then kv "key:$name" "$(sha256sum "$dest/$name" | cut -d' ' -f1)"; else kv "key:$name" missing; fi
done
kv end ok
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
