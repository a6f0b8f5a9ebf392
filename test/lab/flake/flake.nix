# The lab's test flake: NixOS-like hosts without nixpkgs, built from plain derivations (builder /bin/sh).
# lab.ts copies this file next to a generated lab.nix (system, revision, per-host variant, evaluation
# weight) and flake.lock.
{
  description = "fleet lab: NixOS-like test hosts (no nixpkgs, no inputs)";

  outputs = { self }:
    let
      lab = import ./lab.nix;
      inherit (lab) system revision;
      rev = toString revision;

      # Evaluation weight, modelling a real NixOS configuration: `shared` units are bound once here
      # (per evaluator, like importing nixpkgs), `perHost` units inside each configuration (its module
      # system). A unit is 10,000 additions (foldl' over genList, in lists small enough to collect);
      # on the machine this was calibrated on, 150 shared units took about 0.4 s and 700 per host
      # about 0.8 s. Default 0: nothing. The weight is forced, never part of a derivation, so it
      # changes no store path.
      weight = { shared = 0; perHost = 0; } // (lab.weight or { });
      work = seed: units: builtins.foldl'
        (acc: i: acc + builtins.foldl' (x: y: x + y) 0 (builtins.genList (j: i + j + seed) 10000))
        0
        (builtins.genList (i: i) units);
      sharedWork = work 0 weight.shared;

      # A small shared dependency so that a toplevel's closure has more than one path.
      sw = derivation {
        name = "lab-sw-r${rev}";
        inherit system;
        builder = "/bin/sh";
        hello = ''
          #!/bin/sh
          echo "fleet lab system, revision ${rev}"
        '';
        args = [ "-c" ''
          /bin/mkdir -p $out/bin
          printf '%s' "$hello" > $out/bin/lab-hello
          /bin/chmod 0755 $out/bin/lab-hello
        '' ];
      };

      sshdConfig = port: ''
        # sshd_config of a fleet lab host
        Port ${toString port}
        HostKey /etc/ssh/ssh_host_ed25519_key
        PidFile /run/sshd.pid
        PermitRootLogin prohibit-password
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u
        SetEnv PATH=/run/lab/bin:/run/current-system/sw/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        MaxStartups 100:30:200
        MaxSessions 100
        Subsystem sftp internal-sftp
      '';

      # `special`: the name of the specialisation this system is ("" for the host's system itself).
      # A specialisation's boot default is what the system profile holds, as NixOS's boot loader
      # installer has it: the parent system (the specialisation is a sub-entry of its boot entry).
      switchScript = name: variant: version: special:
        let
          bootTop = if special == "" then "$top" else "$bootTop";
          bootTopLine = if special == "" then "" else "bootTop=$(readlink -f /nix/var/nix/profiles/system)\n";
        in ''
        #!/bin/sh
        # switch-to-configuration of fleet lab host ${name} (revision ${rev}, variant ${variant})${if special == "" then "" else ", specialisation ${special}"}
        set -u
        action="''${1:-}"
        top=$(cd "$(dirname "$0")/.." && pwd -P)
        variant='${variant}'
        ${bootTopLine}log=/run/lab/activations.log
        bootloader=false
        [ "''${NIXOS_INSTALL_BOOTLOADER:-}" = 1 ] && bootloader=true
        record() {
          printf '{"action":"%s","storePath":"%s","time":"%s","exitCode":%s,"variant":"%s","installBootloader":%s,"bootId":"%s"${if special == "" then "" else '',"specialisation":"${special}"''}}\n' \
            "$action" "$top" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$1" "$variant" "$bootloader" \
            "$(cat /proc/sys/kernel/random/boot_id)" >> "$log"
        }
        alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
        restart_sshd() {
          if [ -f /run/sshd.pid ]; then
            old=$(cat /run/sshd.pid)
            kill "$old" 2>/dev/null
            i=0
            while alive "$old" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
          fi
          /usr/sbin/sshd -f "$top/sshd_config" -E /run/lab/sshd.log
        }
        case "$action" in
          switch|boot|test|dry-activate) ;;
          *) echo "Usage: $0 [switch|boot|test|dry-activate]" >&2; exit 1 ;;
        esac
        if [ "$variant" = fails ]; then
          echo "error: activating $top failed (lab variant 'fails'); nothing was changed" >&2
          record 1
          exit 1
        fi
        if [ "$action" = dry-activate ]; then
          echo "would activate ${name} ${version} ($top)"
          echo "would restart the following units: sshd.service"
          record 0
          exit 0
        fi
        if [ "$action" = switch ] || [ "$action" = boot ]; then
          if [ "$bootloader" = true ]; then echo "installing the boot loader..."; fi
          ln -sfn "${bootTop}" /boot/.default.tmp && mv -Tf /boot/.default.tmp /boot/default
          echo "boot default is now ${bootTop}"
        fi
        rc=0
        if [ "$action" = switch ] || [ "$action" = test ]; then
          if [ "$variant" = slow ]; then
            echo "activating slowly (${toString lab.slowSeconds} s)..."
            sleep ${toString lab.slowSeconds}
          fi
          echo "activating the configuration..."
          ln -sfn "$top" /run/.current-system.tmp && mv -Tf /run/.current-system.tmp /run/current-system
          echo "restarting the following units: sshd.service"
          restart_sshd || rc=4
          case "$variant" in
            units-fail) echo "warning: the following units failed: lab-broken.service" >&2; rc=4 ;;
            needs-reboot) echo "a reboot is required to complete the activation" >&2; rc=100 ;;
          esac
        fi
        record $rc
        exit $rc
      '';

      diskoScript = name: noDeps: ''
        #!/bin/sh
        # disko script of fleet lab host ${name}${if noDeps then " (no deps)" else ""}: destroy, format, mount at /mnt
        set -eu
        disk=/run/lab/disk
        [ -d "$disk" ] || { echo "disko: no lab disk at $disk" >&2; exit 1; }
        echo "disko: destroying all data on the disk of ${name}"
        umount /mnt 2>/dev/null || true
        find "$disk" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null || true
        echo "disko: creating partitions ESP (/boot) and root (/)"
        mkdir -p "$disk/nix" "$disk/etc" "$disk/.etc-work" "$disk/boot" "$disk/persist"
        printf 'formatted by disko (lab) for ${name} at %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$disk/.disko"
        echo "disko: mounting the new filesystems at /mnt"
        mount --bind "$disk" /mnt
        echo "disko: done"
      '';

      scriptDrv = drvName: text: derivation {
        name = drvName;
        inherit system text;
        builder = "/bin/sh";
        args = [ "-c" "printf '%s' \"$text\" > $out && /bin/chmod 0755 $out" ];
      };

      # Versioned packages of a host (knob `packages`: { "<name>" = { version = "1.0"; kib = 4; }; }),
      # each `<name>-<version>` in the closure of its toplevel, `kib` KiB large: what `fleet diff`
      # names. A host without packages builds exactly the toplevel it built before the knob existed.
      labPackage = pname: p: derivation {
        name = "${pname}-${p.version}";
        inherit system;
        builder = "/bin/sh";
        kib = toString (p.kib or 1);
        args = [ "-c" ''
          /bin/mkdir -p $out/bin
          printf '#!/bin/sh\necho ${pname} ${p.version}\n' > $out/bin/${pname}
          /bin/chmod 0755 $out/bin/${pname}
          /bin/dd if=/dev/zero of=$out/payload bs=1024 count=$kib 2>/dev/null
        '' ];
      };

      # Payload (knob `payload`, issue 21): one incompressible path shared by every host, a
      # fixed-output derivation whose file lab.ts made from a seed and already added to the store
      # (so it is never built, and the same seed is the same path in any lab, in the lab cache like
      # a kernel on cache.nixos.org; should it be collected, the builder copies the file again),
      # and a path of each host's own, `hostKiB` of random bytes, new with every revision.
      payload = lab.payload or null;
      sharedPayload = derivation {
        inherit (payload) name source;
        inherit system;
        builder = "/bin/sh";
        outputHashMode = "flat";
        outputHashAlgo = "sha256";
        outputHash = payload.sha256;
        args = [ "-c" "/bin/cp \"$source\" $out" ];
      };
      hostPayload = name: derivation {
        name = "lab-host-payload-${name}-r${rev}";
        inherit system;
        builder = "/bin/sh";
        kib = toString payload.hostKiB;
        args = [ "-c" "/bin/dd if=/dev/urandom of=$out bs=1024 count=$kib 2>/dev/null" ];
      };

      mkHost = name: host:
        let
          packages = builtins.attrValues (builtins.mapAttrs labPackage (host.packages or { }));
          withPackages = if packages == [ ] then { } else {
            labPackages = packages;
          };
          linkPackages = if packages == [ ] then "" else ''
              /bin/mkdir -p $out/packages
              for p in $labPackages; do /bin/ln -s "$p" "$out/packages/''${p#*-}"; done
          '';
          # Without a payload, the toplevel is exactly the one built before the knob existed.
          withPayload = if payload == null then { } else {
            labSharedPayload = sharedPayload;
            labHostPayload = hostPayload name;
          };
          linkPayload = if payload == null then "" else ''
              /bin/ln -s "$labSharedPayload" $out/payload-shared
              /bin/ln -s "$labHostPayload" $out/payload-host
          '';
          variant = host.variant or "good";
          version = "25.11.lab-r${rev}";
          hostWork = work (builtins.stringLength name) weight.perHost;
          # The `eval-fails` variant's configuration does not evaluate, after its per-host work.
          evaluates = variant != "eval-fails"
            || throw "lab: the configuration of ${name} does not evaluate (lab variant 'eval-fails')";
          # A system of this host: its own (special = "") or one of its specialisations (knob
          # `specialisations`: [ "<name>" … ]), each a whole system with its own switch-to-configuration,
          # linked from the toplevel as specialisation/<name>, as NixOS's specialisation.<name> is.
          systemOf = special: children: derivation ({
            name = "nixos-system-${name}-${version}${if special == "" then "" else "-${special}"}";
            inherit system version sw;
            builder = "/bin/sh";
            sshdConfig = sshdConfig (if variant == "breaks-ssh" then 2222 else 22);
            switch = switchScript name variant version special;
            labVariant = variant;
            args = [ "-c" (''
              /bin/mkdir -p $out/bin
              printf '%s' "$switch" > $out/bin/switch-to-configuration
              /bin/chmod 0755 $out/bin/switch-to-configuration
              printf '%s' "$sshdConfig" > $out/sshd_config
              printf '%s' "$version" > $out/nixos-version
              printf '%s' "$labVariant" > $out/lab-variant
              /bin/ln -s "$sw" $out/sw
            '' + linkPackages + (if special == "" then linkPayload else "") + (if children == { } then "" else ''
              /bin/mkdir -p $out/specialisation
              set -- $specialisationPaths
              for n in $specialisationNames; do /bin/ln -s "$1" "$out/specialisation/$n"; shift; done
            '')) ];
          } // withPackages // (if special == "" then withPayload else { }) // (if children == { } then { } else {
            # Only a system with specialisations has these: any other builds the toplevel it built before.
            specialisationNames = builtins.attrNames children;
            specialisationPaths = builtins.attrValues children;
          }));
          specialisations = builtins.listToAttrs (map (s: { name = s; value = systemOf s { }; }) (host.specialisations or [ ]));
          toplevel = builtins.seq sharedWork (builtins.seq hostWork (builtins.seq evaluates (systemOf "" specialisations)));
        in {
          config.networking.hostName = name;
          config.specialisation = builtins.mapAttrs (s: child: { configuration.system.build.toplevel = child; }) specialisations;
          config.system.build = {
            inherit toplevel;
            diskoScript = scriptDrv "disko-${name}" (diskoScript name false);
            diskoScriptNoDeps = scriptDrv "disko-${name}-no-deps" (diskoScript name true);
          };
        };
    in {
      nixosConfigurations = builtins.mapAttrs mkHost lab.hosts;
    };
}
