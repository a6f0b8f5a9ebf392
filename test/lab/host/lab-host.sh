#!/usr/bin/env bash
# Owns the life cycle of one lab host (boot, halt, reboot); shared by lab.ts and the host's own `reboot`.
#
#   lab-host.sh boot   HOSTDIR   start the host: fresh mount+UTS namespace inside its netns, sshd
#   lab-host.sh halt   HOSTDIR   kill every process of the host (its namespaces go away with them)
#   lab-host.sh reboot HOSTDIR   halt, then boot on the boot default (new boot id, /run and /tmp cleared)
#   lab-host.sh init   HOSTDIR   (internal) runs inside the new namespaces: mounts, pivot_root, sshd
#   reboot [now]                 (inside a host, via the `reboot` symlink) reboot this host asynchronously
#
# A host boots "installed" when its fake disk holds a boot default (disk/boot/default), else it boots
# the "installer" (a rescue system living in RAM: ram/). Everything a host writes lands in its own dirs.
set -euo pipefail

die() { echo "lab-host: $*" >&2; exit 1; }

# `reboot` inside a host: escape to the lab's namespaces through the anchor process, then reboot there.
if [[ "$(basename "$0")" == reboot || "${1:-}" == request-reboot ]]; then
  [[ -r /run/lab/host.env ]] || die "reboot: /run/lab/host.env missing (not inside a lab host?)"
  # shellcheck disable=SC1091
  . /run/lab/host.env
  echo "lab: rebooting ${LAB_HOST} ..." >&2
  setsid nsenter -t "$LAB_ANCHOR_PID" -m -n -- "$LAB_HOSTDIR/lab/bin/lab-host.sh" reboot-later "$LAB_HOSTDIR" \
    </dev/null >>/run/lab/console.log 2>&1 &
  exit 0
fi

cmd="${1:-}"
H="${2:-}"
[[ -n "$cmd" && -n "$H" ]] || die "usage: lab-host.sh boot|halt|reboot|init HOSTDIR"
[[ -r "$H/host.env" ]] || die "$H/host.env missing"
# shellcheck disable=SC1091
. "$H/host.env"

host_pids() {
  local ns p
  ns="$(cat "$H/lab/mntns" 2>/dev/null || true)"
  [[ -n "$ns" ]] || return 0
  for p in /proc/[0-9]*; do
    if [[ "$(readlink "$p/ns/mnt" 2>/dev/null || true)" == "$ns" ]]; then echo "${p#/proc/}"; fi
  done
}

do_halt() {
  local i pids
  for i in $(seq 1 100); do
    mapfile -t pids < <(host_pids)
    ((${#pids[@]} == 0)) && break
    kill -9 "${pids[@]}" 2>/dev/null || true
    sleep 0.05
  done
  mapfile -t pids < <(host_pids)
  ((${#pids[@]} == 0)) || die "halt: processes of $LAB_HOST survive: ${pids[*]}"
  rm -f "$H/lab/init.pid" "$H/lab/mntns" "$H/lab/ready"
}

clear_dir() { [[ -d "$1" ]] && find "$1" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null; mkdir -p "$1"; }

do_boot() {
  if [[ -f "$H/lab/init.pid" ]] && kill -0 "$(cat "$H/lab/init.pid")" 2>/dev/null; then
    die "boot: $LAB_HOST is already running"
  fi
  rm -f "$H/lab/ready" "$H/lab/init.pid" "$H/lab/mntns" "$H/lab/boot-failed"
  clear_dir "$H/run"
  clear_dir "$H/tmp"
  chmod 1777 "$H/tmp"
  cat /proc/sys/kernel/random/uuid >"$H/lab/boot_id"
  setsid ip netns exec "$LAB_NETNS" unshare -m -u --propagation private "$H/lab/bin/lab-host.sh" init "$H" \
    </dev/null >>"$H/lab/console.log" 2>&1 &
  local i
  for i in $(seq 1 200); do
    [[ -f "$H/lab/ready" ]] && return 0
    [[ -f "$H/lab/boot-failed" ]] && break
    sleep 0.05
  done
  tail -n 20 "$H/lab/console.log" >&2 || true
  die "boot: $LAB_HOST did not come up"
}

# Files NixOS activation would write into /etc from the configuration: users, sudo, keys, nix.conf.
prepare_etc() {
  local R="$1" f b
  mkdir -p "$R/etc/ssh/authorized_keys.d" "$R/etc/sudoers.d" "$R/etc/nix" "$R/.etc-work"
  # Never let the real machine's host keys show through the overlay.
  for f in /etc/ssh/ssh_host_*; do
    [[ -e "$f" ]] || continue
    b="$(basename "$f")"
    [[ -e "$R/etc/ssh/$b" || -L "$R/etc/ssh/$b" ]] || mknod "$R/etc/ssh/$b" c 0 0
  done
  for b in ssh_host_ed25519_key ssh_host_ed25519_key.pub; do
    if [[ -c "$R/etc/ssh/$b" ]]; then rm -f "$R/etc/ssh/$b"; fi
  done
  if [[ ! -s "$R/etc/ssh/ssh_host_ed25519_key" ]]; then
    # First boot without a key: generate one, as NixOS's sshd does.
    rm -f "$R/etc/ssh/ssh_host_ed25519_key" "$R/etc/ssh/ssh_host_ed25519_key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "root@$LAB_HOST" -f "$R/etc/ssh/ssh_host_ed25519_key"
  fi
  chmod 0600 "$R/etc/ssh/ssh_host_ed25519_key"
  # deploy: passwordless sudo. admin: sudo that asks for its password (LAB_SUDO_PASSWORD in lab.ts;
  # only its hash is here). doer: doas without a password, and no sudo at all.
  local admin_uid=$((LAB_DEPLOY_UID + 1)) doer_uid=$((LAB_DEPLOY_UID + 2))
  {
    grep -v -E '^(deploy|admin|doer):' /etc/passwd
    echo "deploy:x:$LAB_DEPLOY_UID:$LAB_DEPLOY_UID:fleet lab deploy user:/home/deploy:/bin/bash"
    echo "admin:x:$admin_uid:$admin_uid:fleet lab admin (sudo with a password):/home/admin:/bin/bash"
    echo "doer:x:$doer_uid:$doer_uid:fleet lab doas user:/home/doer:/bin/bash"
  } >"$R/etc/passwd"
  {
    grep -v -E '^(deploy|admin|doer):' /etc/group
    echo "deploy:x:$LAB_DEPLOY_UID:"
    echo "admin:x:$admin_uid:"
    echo "doer:x:$doer_uid:"
  } >"$R/etc/group"
  {
    grep -v -E '^(deploy|admin|doer):' /etc/shadow
    echo "deploy:*:19000:0:99999:7:::"
    echo 'admin:$6$fleetlabsudo$w.oawvxLK8DpQIUdAUMKLQwUzLaBQeSBIA8OTjVq5Ai0IYp0QRYUQTtAL2wEHCJwTcJ21nGJuQ4zUanmTMUyB/:19000:0:99999:7:::'
    echo "doer:*:19000:0:99999:7:::"
  } >"$R/etc/shadow"
  chmod 0644 "$R/etc/passwd" "$R/etc/group"
  chown root:shadow "$R/etc/shadow" 2>/dev/null || true
  chmod 0640 "$R/etc/shadow"
  cat >"$R/etc/sudoers.d/fleet-lab" <<EOF
Defaults secure_path="/run/lab/bin:/run/current-system/sw/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
deploy ALL=(ALL:ALL) NOPASSWD: ALL
admin ALL=(ALL:ALL) ALL
EOF
  chmod 0440 "$R/etc/sudoers.d/fleet-lab"
  # The same PATH as sudo's secure_path above (doas would give its own safe path).
  echo "permit nopass setenv { PATH=/run/lab/bin:/run/current-system/sw/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin } doer as root" >"$R/etc/doas.conf"
  chmod 0600 "$R/etc/doas.conf"
  cp "$H/lab/authorized_keys" "$R/etc/ssh/authorized_keys.d/root"
  for b in deploy admin doer; do
    cp "$H/lab/authorized_keys" "$R/etc/ssh/authorized_keys.d/$b"
  done
  chmod 0644 "$R/etc/ssh/authorized_keys.d/root" "$R/etc/ssh/authorized_keys.d/deploy" "$R/etc/ssh/authorized_keys.d/admin" "$R/etc/ssh/authorized_keys.d/doer"
  {
    grep -v -E '^(trusted-users|substituters|trusted-public-keys|experimental-features|gc-reserved-space|build-users-group|sandbox)' /etc/nix/nix.conf 2>/dev/null || true
    echo "trusted-users = root deploy admin doer"
    # Debian's nix-bin has no nixbld build users; a host never builds, it only receives closures.
    echo "build-users-group ="
    echo "sandbox = false"
    if [[ -n "${LAB_SUBSTITUTERS:-}" ]]; then
      # The lab binary cache (lab.ts, option `cache`), as cache.nixos.org is to a real host.
      echo "substituters = $LAB_SUBSTITUTERS"
      echo "trusted-public-keys = ${LAB_TRUSTED_PUBLIC_KEYS:-}"
    else
      echo "substituters ="
    fi
    echo "experimental-features = nix-command flakes"
    echo "gc-reserved-space = 0"
  } >"$R/etc/nix/nix.conf"
  echo "$LAB_HOST" >"$R/etc/hostname"
  # sudo looks its host name up; NixOS lists it in /etc/hosts (networking.hostName).
  { grep -v -w "$LAB_HOST" /etc/hosts 2>/dev/null || true; echo "127.0.0.2 $LAB_HOST"; } >"$R/etc/hosts"
}

do_init() {
  trap 'touch "$H/lab/boot-failed"' ERR
  local mode R NR e n booted=""
  if [[ -L "$H/disk/boot/default" ]]; then
    booted="$(readlink "$H/disk/boot/default")"
    if [[ -e "$H/disk$booted/nixos-version" ]]; then mode=installed; else mode=installer; booted=""; fi
  else
    mode=installer
  fi
  if [[ "$mode" == installed ]]; then R="$H/disk"; else R="$H/ram"; fi
  echo "$mode" >"$H/lab/mode"
  mkdir -p "$R/nix" "$R/etc" "$R/.etc-work" "$R/boot" "$R/persist" "$R/root" "$R/home/deploy" "$R/home/admin" "$R/home/doer"
  chmod 0700 "$R/root"
  chown "$LAB_DEPLOY_UID:$LAB_DEPLOY_UID" "$R/home/deploy"
  chown "$((LAB_DEPLOY_UID + 1)):$((LAB_DEPLOY_UID + 1))" "$R/home/admin"
  chown "$((LAB_DEPLOY_UID + 2)):$((LAB_DEPLOY_UID + 2))" "$R/home/doer"
  prepare_etc "$R"
  if [[ "$mode" == installed ]]; then touch "$R/etc/NIXOS"; else rm -f "$R/etc/NIXOS"; fi

  # A fresh root (tmpfs) carrying the machine's /usr, /var, ... and the host's own dirs.
  NR="$H/newroot"
  mkdir -p "$NR"
  mount -t tmpfs -o size=8m,mode=0755 lab-root "$NR"
  for e in /*; do
    n="${e#/}"
    case "$n" in nix | etc | run | boot | mnt | persist | tmp | root | home | proc | sys | dev | lost+found) continue ;; esac
    if [[ -L "$e" ]]; then
      ln -s "$(readlink "$e")" "$NR/$n"
    elif [[ -d "$e" ]]; then
      mkdir "$NR/$n"
      mount --rbind "$e" "$NR/$n"
    fi
  done
  for n in proc sys dev; do mkdir "$NR/$n"; mount --rbind "/$n" "$NR/$n"; done
  mkdir "$NR/etc" "$NR/nix" "$NR/boot" "$NR/persist" "$NR/root" "$NR/home" "$NR/mnt" "$NR/tmp" "$NR/run"
  mount -t overlay lab-etc -o "lowerdir=/etc,upperdir=$R/etc,workdir=$R/.etc-work" "$NR/etc"
  mount --bind "$R/nix" "$NR/nix"
  mount --bind "$R/boot" "$NR/boot"
  mount --bind "$R/persist" "$NR/persist"
  mount --bind "$R/root" "$NR/root"
  mount --bind "$R/home" "$NR/home"
  mount --bind "$H/mnt" "$NR/mnt"
  mount --bind "$H/tmp" "$NR/tmp"
  mount --bind "$H/run" "$NR/run"
  mkdir -p "$H/run/lab" "$H/lab/disk"
  mount --bind "$H/lab" "$NR/run/lab"
  mount --bind "$H/disk" "$NR/run/lab/disk"
  mount --bind "$H/lab/boot_id" "$NR/proc/sys/kernel/random/boot_id"
  cd "$NR"
  mkdir .oldroot
  pivot_root . .oldroot
  cd /
  umount -l /.oldroot
  rmdir /.oldroot
  trap - ERR

  hostname "$LAB_HOST"
  mkdir -p /run/sshd
  chmod 0755 /run/sshd
  echo $$ >/run/lab/init.pid
  readlink "/proc/$$/ns/mnt" >/run/lab/mntns
  local cfg=/run/lab/installer_sshd_config
  if [[ -n "$booted" ]]; then
    ln -s "$booted" /run/booted-system
    ln -s "$booted" /run/current-system
    cfg="$booted/sshd_config"
  fi
  export PATH=/run/lab/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  setsid nix-daemon </dev/null >>/run/lab/nix-daemon.log 2>&1 &
  /usr/sbin/sshd -f "$cfg" -E /run/lab/sshd.log || echo "lab-host: sshd failed to start from $cfg" >&2
  printf '{"bootId":"%s","time":"%s","mode":"%s","system":"%s"}\n' \
    "$(cat /run/lab/boot_id)" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$mode" "$booted" >>/run/lab/boots.log
  touch /run/lab/ready
  exec -a "fleet-lab-$LAB_PREFIX-$LAB_HOST" sleep infinity
}

case "$cmd" in
  boot) do_boot ;;
  halt) do_halt ;;
  reboot) do_halt; do_boot ;;
  reboot-later) sleep 0.5; do_halt; do_boot ;;
  init) do_init ;;
  *) die "unknown command: $cmd" ;;
esac
