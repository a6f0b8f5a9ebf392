// The manifest schema compiled by ajv ahead of time: GENERATED from schemas/fleet.schema.json by scripts/gen-validator.ts.
// Do not edit; run `npm run gen:validator` (a unit test fails when this file drifts from the schema).
// @ts-nocheck -- ajv standalone output is plain JavaScript; src/manifest/validate.ts gives it its type.
/* eslint-disable */
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
/** Appends a sub-schema's errors in place (see CONCAT in scripts/gen-validator.ts). */
function appendErrors(into, more) {
  if (into === null) return more.slice();
  for (const error of more) into.push(error);
  return into;
}
export const validate = validate10;
export default validate10;
const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","title":"FleetManifest","description":"fleet.yaml: how each machine of a NixOS fleet is reached and deployed. The configurations themselves live in the flake as nixosConfigurations.<host>.","type":"object","additionalProperties":false,"required":["version"],"properties":{"version":{"description":"Version of the manifest format. Always 1.","const":1},"flake":{"description":"The flake holding nixosConfigurations.<host> for every host: a path relative to this manifest (\".\", \"./nix\", \"~/src/infra\"), an absolute path, or a flake reference with a scheme (\"github:owner/repo\", \"git+https://…\", \"path:./nix\"). A registry name needs the \"flake:\" scheme (\"flake:infra\"). No \"#attribute\": fleet picks the attribute per host.","$ref":"#/definitions/flakeRef","default":"."},"parallel":{"description":"How many hosts are deployed at once. 0 means no limit.","type":"integer","minimum":0,"default":10},"evalLimit":{"description":"How many hosts one evaluator (`nix eval`, then one `nix build` of its derivations) takes. When absent, fleet chooses from the free memory (about 512 MiB per host) and, when there are at least as many hosts as evalJobs, cuts the hosts into at least evalJobs chunks so that every evaluator has one. --eval-limit overrides it.","type":"integer","minimum":1},"evalJobs":{"description":"How many evaluators (chunks of at most evalLimit hosts) run at once; an evaluator hands on each host as soon as it has evaluated it, and that host is built and deployed while the evaluators go on. The evaluators share the free memory. When absent: the number of cores of the machine fleet runs on. --eval-jobs overrides it.","type":"integer","minimum":1},"rebuildFlavour":{"description":"Which nixos-rebuild this machine has, and so how fleet activates a prebuilt system: \"ng\" (nixos-rebuild-ng with --store-path: fleet runs `nixos-rebuild <mode> --store-path <system> --target-host …`), \"bash\" (the bash nixos-rebuild, or a nixos-rebuild-ng without --store-path: fleet sets the system profile and runs switch-to-configuration on the target itself, as nixos-rebuild does, so no host is evaluated twice), or \"auto\": ask the installed nixos-rebuild with a side-effect-free `nixos-rebuild --store-path` (no value), and with no nixos-rebuild on PATH activate as \"bash\" (fleet's own activation needs none); an answer that is neither is an error, never a guess. \"ng\" without a nixos-rebuild on PATH is an error. --rebuild-flavour overrides it.","enum":["auto","ng","bash"],"default":"auto"},"copyTimeout":{"description":"Seconds a closure copy to a host may go without progress (nix prints a line per store path it copies) before fleet kills it; a copy is tried 3 times, then the host fails with nothing activated.","type":"integer","minimum":1,"default":300},"activationTimeout":{"description":"Seconds an activation (nixos-rebuild, or switch-to-configuration on the target) may take before fleet stops it and fails the host; a live one's rollback watchdog then decides, as after any failed activation.","type":"integer","minimum":1,"default":3600},"cache":{"$ref":"#/definitions/cache"},"rollout":{"$ref":"#/definitions/rollout"},"commands":{"$ref":"#/definitions/commands"},"ssh":{"$ref":"#/definitions/ssh"},"defaults":{"description":"Host fields applied to every host. A host's own field replaces the default; the mappings keys, bootstrap and rollback are merged one level deep (a host's keys.push replaces only keys.push). Lists such as tags, hostKey and healthChecks are replaced, not concatenated. target cannot be a default.","$ref":"#/definitions/host"},"hosts":{"description":"The machines, by name. The name is the attribute in nixosConfigurations and, unless target says otherwise, the address ssh connects to. When parallelism is limited, hosts start in the order they are evaluated: in manifest order within a chunk, and chunks are cut in manifest order (with evalJobs: 1, manifest order); with a rollout, in the order of its waves, canary first.","type":"object","propertyNames":{"$ref":"#/definitions/safeWord"},"additionalProperties":{"$ref":"#/definitions/host"},"default":{}}},"definitions":{"cache":{"title":"ManifestCache","description":"A binary cache fleet pushes every built system to, once, as soon as it is built (before any host copies it), so that the hosts substitute it from there: this machine uploads each store path once, whatever the number of hosts. A failed push fails nothing: fleet warns and the hosts get what the cache lacks uploaded from here. Hosts fetch from the cache only if it is among their own substituters (and its key among their trusted-public-keys).","type":"object","additionalProperties":false,"required":["push"],"properties":{"push":{"description":"Where fleet pushes: any Nix store URL `nix copy --to` accepts (s3://bucket?region=…, ssh-ng://cache-host, file:///srv/cache, https://… with its upload options), e.g. the upload side of the cache your hosts substitute from.","type":"string","minLength":1,"pattern":"^[a-z][a-z0-9+.-]*://[^\\s]*$"},"signingKey":{"description":"Secret key file (nix-store --generate-binary-cache-key) the pushed paths are signed with (`nix store sign --key-file`) before they are pushed; hosts verify them with its public half in their trusted-public-keys. Without it, the paths go as they are (already signed, or a cache that signs itself).","$ref":"#/definitions/path"}}},"safeWord":{"description":"Letters, digits, \".\", \"_\" and \"-\", starting with a letter or digit.","type":"string","pattern":"^[A-Za-z0-9][A-Za-z0-9._-]*$"},"nonEmptyString":{"description":"A string that is not empty.","type":"string","minLength":1},"path":{"description":"A file or directory on this machine: absolute, starting with \"~/\" (the home directory), or relative to the manifest's directory. No NUL or line breaks.","type":"string","pattern":"^[^\\u0000\\r\\n]+$"},"absolutePath":{"description":"An absolute path on the target, starting with \"/\". No NUL or line breaks.","type":"string","pattern":"^/[^\\u0000\\r\\n]*$"},"flakeRef":{"description":"A flake path or reference, without \"#attribute\". No NUL or line breaks.","type":"string","pattern":"^[^#\\u0000\\r\\n]+$"},"endpoint":{"title":"ManifestEndpoint","description":"\"local\", or [user@]host[:port] where host is a name, an IPv4 address or a bracketed IPv6 address (\"[2001:db8::1]:2222\"); an IPv6 address without a port may be written bare.","type":"string","pattern":"^(local|([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))$"},"jumpEndpoint":{"description":"[user@]host[:port] of a jump host, as a host's target is written (user default: the host's user; port default 22).","type":"string","pattern":"^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$"},"jump":{"title":"ManifestJump","description":"A jump host: [user@]host[:port], or an object with its own pinned key and identity.","type":["string","object"],"pattern":"^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$","additionalProperties":false,"required":["target"],"properties":{"target":{"description":"[user@]host[:port] of the jump host.","$ref":"#/definitions/jumpEndpoint"},"hostKey":{"description":"The jump host's public SSH host key(s), pinned in fleet's own known_hosts; without it, ssh checks the jump host strictly against your own known_hosts.","type":["string","array"],"pattern":"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$","minItems":1,"items":{"$ref":"#/definitions/publicKey"}},"identityFile":{"description":"The ssh identity for the jump host (default: the host's identityFile).","$ref":"#/definitions/path"}}},"publicKey":{"description":"An SSH public key as in known_hosts without the host part: \"<type> <base64>\", optionally followed by a comment, e.g. \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA…\".","type":"string","pattern":"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$"},"sshOption":{"description":"An ssh option written Key=Value, passed as `-o Key=Value`.","type":"string","pattern":"^[A-Za-z][A-Za-z0-9]*=[^\\u0000\\r\\n]+$"},"seconds":{"description":"A whole number of seconds, at least 1.","type":"integer","minimum":1},"argv":{"description":"A command as a non-empty list of words; no shell is involved.","type":"array","minItems":1,"items":{"$ref":"#/definitions/nonEmptyString"}},"commands":{"title":"ManifestCommands","description":"The commands fleet runs for each tool, as argv prefixes, so that a tool can come from elsewhere: [\"nix\", \"run\", \"nixpkgs#nixos-rebuild\", \"--\"].","type":"object","additionalProperties":false,"properties":{"nix":{"description":"Command for nix (build, copy, eval).","$ref":"#/definitions/argv","default":["nix"]},"nixosRebuild":{"description":"Command for nixos-rebuild (deploy).","$ref":"#/definitions/argv","default":["nixos-rebuild"]},"nixosAnywhere":{"description":"Command for nixos-anywhere (bootstrap).","$ref":"#/definitions/argv","default":["nixos-anywhere"]},"nixosInstall":{"description":"Command for nixos-install (installing onto a mounted disk).","$ref":"#/definitions/argv","default":["nixos-install"]}}},"ssh":{"title":"ManifestSsh","description":"How fleet runs ssh for every host.","type":"object","additionalProperties":false,"properties":{"options":{"description":"Extra ssh options for every connection, each Key=Value and passed as `-o Key=Value` (also to nix and nixos-rebuild through NIX_SSHOPTS). fleet's host-key options come first and win; these override fleet's connection defaults (ConnectTimeout, ServerAliveInterval, ServerAliveCountMax). fleet never adds, removes or reorders ssh's algorithms: a KexAlgorithms=… (or Ciphers, MACs) here or in your ssh configuration is what ssh negotiates, on every connection (docs/safety.md, \"ssh connections per host\").","type":"array","items":{"$ref":"#/definitions/sshOption"},"default":[]}}},"host":{"title":"ManifestHost","description":"One machine: how to reach it and how to deploy it.","type":"object","additionalProperties":false,"properties":{"target":{"description":"Where the host is reached: [user@]host[:port], or \"local\" for the machine fleet runs on (no ssh). Defaults to the host's name.","$ref":"#/definitions/endpoint"},"user":{"description":"ssh user. Anyone but root deploys through sudo on the target. A user written in target wins over a default; a host's own user must agree with its target.","$ref":"#/definitions/safeWord","default":"root"},"port":{"description":"ssh port. A port written in target wins over a default; a host's own port must agree with its target.","type":"integer","minimum":1,"maximum":65535,"default":22},"identityFile":{"description":"Private key ssh authenticates with (ssh -i).","$ref":"#/definitions/path"},"hostKey":{"description":"The host's public SSH host key(s), pinned: ssh refuses any other, and your own known_hosts is not consulted for this host. One key or a list of keys. Without hostKey (and without a key policy that pushes the host key), ssh checks the host strictly against your own known_hosts.","type":["string","array"],"pattern":"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$","minItems":1,"items":{"$ref":"#/definitions/publicKey"}},"jump":{"description":"A jump host (bastion) the host is reached through, for every connection fleet and Nix open to it (the copy included): [user@]host[:port], or {target, hostKey, identityFile} to pin the jump host's key and choose its identity. fleet gives the jump hop its own settings (BatchMode, strict host keys, timeouts, the identity), which ssh does not pass to a ProxyJump given in ssh.options, through an ssh config it writes for the run (ssh -F, including your own ~/.ssh/config and /etc/ssh/ssh_config). colmena: deployment.targetHost with ProxyJump in ssh_config; deploy-rs: sshOpts [\"-J\", …]; nixos-rebuild: NIX_SSHOPTS=\"-J …\". A ProxyJump=[user@]host[:port] in ssh.options (one hop) is taken as the jump host of every host without one.","$ref":"#/definitions/jump"},"trustOnFirstUse":{"description":"Accept an unknown host key on first contact (ssh StrictHostKeyChecking=accept-new), keep it in .fleet/known_hosts.tofu beside the manifest and print its fingerprint. Without this, a host is checked strictly: against the keys fleet knows (hostKey, or the host key its key policy pushes), else against your own known_hosts.","type":"boolean","default":false},"mode":{"description":"What activation does: switch (boot default and live now), boot (boot default only, applied on the next reboot), test (live now, not the boot default), dry-activate (print what would change).","enum":["switch","boot","test","dry-activate"],"default":"switch"},"specialisation":{"description":"Activate this specialisation of the built system (<system>/specialisation/<name>, NixOS's specialisation.<name>) instead of the system itself, in switch and test mode: nixos-rebuild's --specialisation/-c, nh's --specialisation/-s (--specialisation on fleet apply overrides it). The system itself stays the boot default (boot and dry-activate use it, as nixos-rebuild does). Checked to exist on the target before anything is activated; fleet status compares the live system with it.","$ref":"#/definitions/safeWord"},"buildHost":{"description":"Where the system is built: \"local\" (this machine, with the remote builders of your nix.conf `builders =` as Nix uses them), \"target\" (the host itself: fleet evaluates here, copies the derivations to the target and the target builds them, substituting from its own binary caches; colmena's buildOnTarget, deploy-rs's remoteBuild; the way to deploy aarch64 hosts from an x86 machine; not for a host with bootstrap options, whose target is not NixOS yet), the name of a host in this manifest (reached the way that host is), or [user@]host[:port] (a remote builder through Nix's own remote building; the result comes back here and is copied on).","$ref":"#/definitions/endpoint","default":"local"},"substitutes":{"description":"Let the target fetch what its own binary caches (its nix.conf substituters) have while the closure is copied (nix copy --substitute-on-destination; nixos-anywhere without --no-substitute-on-destination); only what no cache has is uploaded from this machine, and a target whose cache is unreachable still gets everything uploaded. false: upload the whole missing closure from here (a target without a usable cache, or a fast link to it). --no-substitutes turns it off for a run.","type":"boolean","default":true},"tags":{"description":"Labels for selecting hosts (fleet apply --tag homelab).","type":"array","uniqueItems":true,"items":{"$ref":"#/definitions/safeWord"},"default":[]},"keys":{"$ref":"#/definitions/keys"},"bootstrap":{"$ref":"#/definitions/bootstrap"},"rollback":{"$ref":"#/definitions/rollback"},"healthChecks":{"description":"Commands run on the target after a live activation (switch, test), once the fresh connection is confirmed; a host succeeds only when all of them exit 0, and fleet check runs them too.","type":"array","items":{"$ref":"#/definitions/healthCheck"},"default":[]},"secrets":{"description":"Secret files fleet uploads to the host at deploy time (colmena's deployment.keys), by name: read on this machine at run time from a command, a file or an environment variable, sent over ssh's stdin, never through the Nix store, an argv or a log. A host's secrets are merged with those in defaults by name: a host's entry replaces the default entry of the same name whole.","type":"object","propertyNames":{"$ref":"#/definitions/safeWord"},"additionalProperties":{"$ref":"#/definitions/secret"},"default":{}},"tolerateUnitFailures":{"description":"Count an activation in which some systemd units failed (switch-to-configuration exit 4) as a success.","type":"boolean","default":false},"privilegeEscalation":{"description":"How a non-root ssh user (or fleet itself, for a local target when it does not run as root) becomes root for every privileged step: sudo (`sudo -n --`), doas (`doas -n --`), run0 (`run0 --no-ask-password --`, systemd 256 or newer; without a terminal it hands the command its stdin and output directly), or your own words put before each command, e.g. [sudo, -H, --] (colmena's privilegeEscalationCommand; deploy-rs's sudo; nixos-rebuild-ng's --sudo/--elevate). Without a password each must work non-interactively: NOPASSWD in sudoers, nopass in doas.conf, a polkit rule for run0.","type":["string","array"],"pattern":"^(sudo|doas|run0)$","minItems":1,"items":{"$ref":"#/definitions/nonEmptyString"},"default":"sudo"},"askSudoPassword":{"description":"fleet asks for the sudo password once per run on the terminal (never echoed) and hands it to each privileged command on its stdin (`sudo -S -k -p ''`), never in an argv, environment, file, log or report (nixos-rebuild-ng's --ask-sudo-password; the same as `fleet apply --ask-sudo-password`). Only with privilegeEscalation sudo: doas reads a password only from a terminal and run0 asks polkit, and fleet's commands have no terminal. Without a terminal it is a usage error.","type":"boolean","default":false}}},"keys":{"title":"ManifestKeys","description":"Secret keys fleet puts on the host: its SSH host key (so it keeps its identity across reinstalls) and an agenix identity. Without keys, fleet pushes nothing.","type":"object","additionalProperties":false,"properties":{"push":{"description":"When keys are pushed: bootstrap (only with an install, through nixos-anywhere's extra files), always (also before every deploy when missing or different on the target), never.","enum":["bootstrap","always","never"],"default":"bootstrap"},"hostKeyFile":{"description":"Private ed25519 host key; its public half is <file>.pub.","$ref":"#/definitions/path"},"hostKeySearch":{"description":"Directories searched for <dir>/<host>/ssh_host_ed25519_key when hostKeyFile is not set. They need not exist when the manifest is validated.","type":"array","items":{"$ref":"#/definitions/path"},"default":[]},"generate":{"description":"Make an ed25519 host key when none is found, kept at hostKeyFile or <first hostKeySearch dir>/<host>/ssh_host_ed25519_key.","type":"boolean","default":false},"agenixKeyFile":{"description":"Private agenix (age/ssh) identity pushed beside the host key.","$ref":"#/definitions/path"},"agenixKeyName":{"description":"File name of the agenix identity in destination.","$ref":"#/definitions/safeWord","default":"global_ed25519"},"destination":{"description":"Directory on the target that receives the keys: /etc/ssh, or a persist root such as /persist/etc/ssh on impermanent hosts.","$ref":"#/definitions/absolutePath","default":"/etc/ssh"}}},"bootstrap":{"title":"ManifestBootstrap","description":"The host may be installed with nixos-anywhere and disko when a probe proves it is not NixOS yet (a host that answers as NixOS is never wiped). true or {} means with the defaults below; false turns off a bootstrap given in defaults.","type":["boolean","object"],"additionalProperties":false,"properties":{"noDiskoDeps":{"description":"Build the disko script without its dependencies (nixos-anywhere --no-disko-deps), for targets with little RAM (about 1 GB).","type":"boolean","default":false},"noReboot":{"description":"Do not reboot into the new system after installing (nixos-anywhere --no-reboot).","type":"boolean","default":false},"debug":{"description":"Run nixos-anywhere with --debug.","type":"boolean","default":false},"phases":{"description":"nixos-anywhere --phases. kexec is off by default: list it to boot an installer first.","type":"array","minItems":1,"uniqueItems":true,"items":{"enum":["disko","install","reboot","kexec"]},"default":["disko","install","reboot"]},"extraFiles":{"description":"Directory copied to / of the new system (nixos-anywhere --extra-files).","$ref":"#/definitions/path"},"diskEncryptionKeys":{"description":"Keys copied to the installer for disk encryption (nixos-anywhere --disk-encryption-keys REMOTE LOCAL).","type":"array","items":{"$ref":"#/definitions/diskEncryptionKey"},"default":[]},"generateHardwareConfig":{"$ref":"#/definitions/generateHardwareConfig"},"waitTimeout":{"description":"Seconds to wait for the installed system to answer after the reboot.","$ref":"#/definitions/seconds","default":300}}},"diskEncryptionKey":{"title":"ManifestDiskEncryptionKey","description":"One disk encryption key for the installer.","type":"object","additionalProperties":false,"required":["remote","local"],"properties":{"remote":{"description":"Where the key is placed on the installer, e.g. /tmp/disk.key.","$ref":"#/definitions/absolutePath"},"local":{"description":"The key file on this machine.","$ref":"#/definitions/path"}}},"generateHardwareConfig":{"title":"ManifestGenerateHardwareConfig","description":"Generate the hardware configuration during the install (nixos-anywhere --generate-hardware-config BACKEND PATH).","type":"object","additionalProperties":false,"required":["backend","path"],"properties":{"backend":{"description":"Generator run on the target.","enum":["nixos-facter","nixos-generate-config"]},"path":{"description":"File written on this machine, e.g. ./hosts/vps/facter.json.","$ref":"#/definitions/path"}}},"rollback":{"title":"ManifestRollback","description":"The watchdog armed on the target before a live activation (switch, test): unless fleet confirms over a brand-new ssh connection in time, the target switches back to its previous generation on its own.","type":"object","additionalProperties":false,"properties":{"enabled":{"description":"Arm the watchdog. boot and dry-activate never arm it.","type":"boolean","default":true},"timeout":{"description":"Seconds from arming the watchdog (just before activation) until the target rolls back unless confirmed; must exceed the activation time plus a new ssh connection.","$ref":"#/definitions/seconds","default":90}}},"unixName":{"description":"A user or group name on the target: a letter or \"_\", then letters, digits, \"_\", \".\" or \"-\".","type":"string","pattern":"^[A-Za-z_][A-Za-z0-9_.-]*$"},"secret":{"title":"ManifestSecret","description":"One secret file: where its content comes from (exactly one of command, file, env), where it goes on the target, with which owner, group and mode, and when it is uploaded. The content is read once per run, kept in memory only, and compared with the target's copy through a keyed digest: an unchanged secret is not uploaded again.","type":"object","additionalProperties":false,"properties":{"command":{"description":"A command run on this machine (no shell); its standard output, byte for byte, is the secret, e.g. [pass, show, infra/grafana]. A non-zero exit fails the host before anything on it changes.","$ref":"#/definitions/argv"},"file":{"description":"A file on this machine (relative to the manifest's directory) whose content is the secret.","$ref":"#/definitions/path"},"env":{"description":"An environment variable of the fleet process whose value is the secret; unset fails the host.","type":"string","pattern":"^[A-Za-z_][A-Za-z0-9_]*$"},"destination":{"description":"Absolute path of the file on the target. Default /run/keys/<name> (a tmpfs on NixOS: empty after a reboot, see fleet status and fleet push-secrets). A missing parent directory is created (root, 0755).","$ref":"#/definitions/absolutePath"},"owner":{"description":"User owning the file on the target. It must exist when the secret is uploaded: for a user the new system creates, use upload: after-activation.","$ref":"#/definitions/unixName","default":"root"},"group":{"description":"Group of the file on the target.","$ref":"#/definitions/unixName","default":"root"},"mode":{"description":"Permissions of the file, in octal.","type":"string","pattern":"^0?[0-7]{3}$","default":"0400"},"upload":{"description":"before-activation: uploaded before the new system is activated (it can use the secret at once); after-activation: after it is activated and verified (for an owner the new system creates). In dry-activate mode nothing is uploaded.","enum":["before-activation","after-activation"],"default":"before-activation"},"allowEmpty":{"description":"Accept an empty secret (a command that prints nothing, an empty file or variable). Off by default: an empty secret is almost always a source that failed quietly, so it fails the host's secrets step before anything is uploaded.","type":"boolean","default":false}}},"hostSelector":{"description":"A host name, a glob over host names (\"web-*\", \"db-?\"), or @tag.","type":"string","pattern":"^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$"},"rollout":{"title":"ManifestRollout","description":"How `fleet apply` rolls a change out: the canary hosts first, alone, then the rest in waves; a wave starts only when every host of the one before ended changed or unchanged (its health checks passed). When a wave fails, no later wave starts: their hosts end skipped, naming the cause. Without rollout, every selected host is deployed at once (up to parallel). --canary, --waves, --pause and --on-failure override these fields; --no-rollout ignores them.","type":"object","additionalProperties":false,"properties":{"canary":{"description":"Hosts deployed first, alone, as a wave of their own: names, globs or @tags (one selector or a list). Only the selected ones count: a canary left out by --only or --exclude is not deployed, and the waves start at once.","type":["string","array"],"pattern":"^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$","items":{"$ref":"#/definitions/hostSelector"},"default":[]},"waves":{"description":"The other hosts, in manifest order, in waves of this many: a number of hosts (2), or a percentage of them (\"25%\", rounded up, so 25% makes at most 4 waves). When absent, they form one wave.","type":["integer","string"],"minimum":1,"pattern":"^(100|[1-9][0-9]?)%$"},"pause":{"description":"Seconds to wait between waves (after the canary too); 0 = none. Ctrl-C during the pause stops the rollout.","type":"integer","minimum":0,"default":0},"onFailure":{"description":"When a wave fails: stop (start no later wave), or rollback (also switch the hosts of the failing wave that changed back to the generation they ran before, so they end rolled-back).","enum":["stop","rollback"],"default":"stop"}}},"healthCheck":{"title":"ManifestHealthCheck","description":"A command run on the target as root (through the host's privilegeEscalation for a non-root ssh user) after a live activation, and by fleet check.","type":"object","additionalProperties":false,"required":["name","command"],"properties":{"name":{"description":"Shown in progress and reports.","$ref":"#/definitions/nonEmptyString"},"command":{"description":"A list of words run as is, or one string run with sh -c.","type":["string","array"],"minLength":1,"minItems":1,"items":{"$ref":"#/definitions/nonEmptyString"}},"timeout":{"description":"Seconds before the check counts as failed.","$ref":"#/definitions/seconds","default":30}}}}};
const schema12 = {"description":"A flake path or reference, without \"#attribute\". No NUL or line breaks.","type":"string","pattern":"^[^#\\u0000\\r\\n]+$"};
const schema24 = {"description":"Letters, digits, \".\", \"_\" and \"-\", starting with a letter or digit.","type":"string","pattern":"^[A-Za-z0-9][A-Za-z0-9._-]*$"};
const func2 = Object.prototype.hasOwnProperty;
const pattern0 = new RegExp("^[^#\\u0000\\r\\n]+$", "u");
const pattern8 = new RegExp("^[A-Za-z0-9][A-Za-z0-9._-]*$", "u");
const schema13 = {"title":"ManifestCache","description":"A binary cache fleet pushes every built system to, once, as soon as it is built (before any host copies it), so that the hosts substitute it from there: this machine uploads each store path once, whatever the number of hosts. A failed push fails nothing: fleet warns and the hosts get what the cache lacks uploaded from here. Hosts fetch from the cache only if it is among their own substituters (and its key among their trusted-public-keys).","type":"object","additionalProperties":false,"required":["push"],"properties":{"push":{"description":"Where fleet pushes: any Nix store URL `nix copy --to` accepts (s3://bucket?region=…, ssh-ng://cache-host, file:///srv/cache, https://… with its upload options), e.g. the upload side of the cache your hosts substitute from.","type":"string","minLength":1,"pattern":"^[a-z][a-z0-9+.-]*://[^\\s]*$"},"signingKey":{"description":"Secret key file (nix-store --generate-binary-cache-key) the pushed paths are signed with (`nix store sign --key-file`) before they are pushed; hosts verify them with its public half in their trusted-public-keys. Without it, the paths go as they are (already signed, or a cache that signs itself).","$ref":"#/definitions/path"}}};
const schema14 = {"description":"A file or directory on this machine: absolute, starting with \"~/\" (the home directory), or relative to the manifest's directory. No NUL or line breaks.","type":"string","pattern":"^[^\\u0000\\r\\n]+$"};
const func3 = require("ajv/dist/runtime/ucs2length").default;
const pattern1 = new RegExp("^[a-z][a-z0-9+.-]*://[^\\s]*$", "u");
const pattern2 = new RegExp("^[^\\u0000\\r\\n]+$", "u");

function validate11(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
if(data.push === undefined){
const err0 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "push"},message:"must have required property '"+"push"+"'",schema:schema13.required,parentSchema:schema13,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
for(const key0 in data){
if(!((key0 === "push") || (key0 === "signingKey"))){
const err1 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema13,data};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
if(data.push !== undefined){
let data0 = data.push;
if(typeof data0 === "string"){
if(func3(data0) < 1){
const err2 = {instancePath:instancePath+"/push",schemaPath:"#/properties/push/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters",schema:1,parentSchema:schema13.properties.push,data:data0};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
if(!pattern1.test(data0)){
const err3 = {instancePath:instancePath+"/push",schemaPath:"#/properties/push/pattern",keyword:"pattern",params:{pattern: "^[a-z][a-z0-9+.-]*://[^\\s]*$"},message:"must match pattern \""+"^[a-z][a-z0-9+.-]*://[^\\s]*$"+"\"",schema:"^[a-z][a-z0-9+.-]*://[^\\s]*$",parentSchema:schema13.properties.push,data:data0};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
else {
const err4 = {instancePath:instancePath+"/push",schemaPath:"#/properties/push/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema13.properties.push.type,parentSchema:schema13.properties.push,data:data0};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
if(data.signingKey !== undefined){
let data1 = data.signingKey;
if(typeof data1 === "string"){
if(!pattern2.test(data1)){
const err5 = {instancePath:instancePath+"/signingKey",schemaPath:"#/definitions/path/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^\\u0000\\r\\n]+$"+"\"",schema:"^[^\\u0000\\r\\n]+$",parentSchema:schema14,data:data1};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
}
else {
const err6 = {instancePath:instancePath+"/signingKey",schemaPath:"#/definitions/path/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema14.type,parentSchema:schema14,data:data1};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
}
}
else {
const err7 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema13.type,parentSchema:schema13,data};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
validate11.errors = vErrors;
return errors === 0;
}

const schema15 = {"title":"ManifestRollout","description":"How `fleet apply` rolls a change out: the canary hosts first, alone, then the rest in waves; a wave starts only when every host of the one before ended changed or unchanged (its health checks passed). When a wave fails, no later wave starts: their hosts end skipped, naming the cause. Without rollout, every selected host is deployed at once (up to parallel). --canary, --waves, --pause and --on-failure override these fields; --no-rollout ignores them.","type":"object","additionalProperties":false,"properties":{"canary":{"description":"Hosts deployed first, alone, as a wave of their own: names, globs or @tags (one selector or a list). Only the selected ones count: a canary left out by --only or --exclude is not deployed, and the waves start at once.","type":["string","array"],"pattern":"^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$","items":{"$ref":"#/definitions/hostSelector"},"default":[]},"waves":{"description":"The other hosts, in manifest order, in waves of this many: a number of hosts (2), or a percentage of them (\"25%\", rounded up, so 25% makes at most 4 waves). When absent, they form one wave.","type":["integer","string"],"minimum":1,"pattern":"^(100|[1-9][0-9]?)%$"},"pause":{"description":"Seconds to wait between waves (after the canary too); 0 = none. Ctrl-C during the pause stops the rollout.","type":"integer","minimum":0,"default":0},"onFailure":{"description":"When a wave fails: stop (start no later wave), or rollback (also switch the hosts of the failing wave that changed back to the generation they ran before, so they end rolled-back).","enum":["stop","rollback"],"default":"stop"}}};
const schema16 = {"description":"A host name, a glob over host names (\"web-*\", \"db-?\"), or @tag.","type":"string","pattern":"^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$"};
const pattern3 = new RegExp("^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$", "u");
const pattern5 = new RegExp("^(100|[1-9][0-9]?)%$", "u");

function validate13(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
for(const key0 in data){
if(!((((key0 === "canary") || (key0 === "waves")) || (key0 === "pause")) || (key0 === "onFailure"))){
const err0 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema15,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
if(data.canary !== undefined){
let data0 = data.canary;
if((typeof data0 !== "string") && (!(Array.isArray(data0)))){
const err1 = {instancePath:instancePath+"/canary",schemaPath:"#/properties/canary/type",keyword:"type",params:{type: schema15.properties.canary.type},message:"must be string,array",schema:schema15.properties.canary.type,parentSchema:schema15.properties.canary,data:data0};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
if(typeof data0 === "string"){
if(!pattern3.test(data0)){
const err2 = {instancePath:instancePath+"/canary",schemaPath:"#/properties/canary/pattern",keyword:"pattern",params:{pattern: "^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$"},message:"must match pattern \""+"^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$"+"\"",schema:"^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$",parentSchema:schema15.properties.canary,data:data0};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
if(Array.isArray(data0)){
const len0 = data0.length;
for(let i0=0; i0<len0; i0++){
let data1 = data0[i0];
if(typeof data1 === "string"){
if(!pattern3.test(data1)){
const err3 = {instancePath:instancePath+"/canary/" + i0,schemaPath:"#/definitions/hostSelector/pattern",keyword:"pattern",params:{pattern: "^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$"},message:"must match pattern \""+"^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$"+"\"",schema:"^@?[A-Za-z0-9*?][A-Za-z0-9._*?-]*$",parentSchema:schema16,data:data1};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
else {
const err4 = {instancePath:instancePath+"/canary/" + i0,schemaPath:"#/definitions/hostSelector/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema16.type,parentSchema:schema16,data:data1};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
}
}
if(data.waves !== undefined){
let data2 = data.waves;
if((!(((typeof data2 == "number") && (!(data2 % 1) && !isNaN(data2))) && (isFinite(data2)))) && (typeof data2 !== "string")){
const err5 = {instancePath:instancePath+"/waves",schemaPath:"#/properties/waves/type",keyword:"type",params:{type: schema15.properties.waves.type},message:"must be integer,string",schema:schema15.properties.waves.type,parentSchema:schema15.properties.waves,data:data2};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
if((typeof data2 == "number") && (isFinite(data2))){
if(data2 < 1 || isNaN(data2)){
const err6 = {instancePath:instancePath+"/waves",schemaPath:"#/properties/waves/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1",schema:1,parentSchema:schema15.properties.waves,data:data2};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
}
if(typeof data2 === "string"){
if(!pattern5.test(data2)){
const err7 = {instancePath:instancePath+"/waves",schemaPath:"#/properties/waves/pattern",keyword:"pattern",params:{pattern: "^(100|[1-9][0-9]?)%$"},message:"must match pattern \""+"^(100|[1-9][0-9]?)%$"+"\"",schema:"^(100|[1-9][0-9]?)%$",parentSchema:schema15.properties.waves,data:data2};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
}
}
if(data.pause !== undefined){
let data3 = data.pause;
if(!(((typeof data3 == "number") && (!(data3 % 1) && !isNaN(data3))) && (isFinite(data3)))){
const err8 = {instancePath:instancePath+"/pause",schemaPath:"#/properties/pause/type",keyword:"type",params:{type: "integer"},message:"must be integer",schema:schema15.properties.pause.type,parentSchema:schema15.properties.pause,data:data3};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
if((typeof data3 == "number") && (isFinite(data3))){
if(data3 < 0 || isNaN(data3)){
const err9 = {instancePath:instancePath+"/pause",schemaPath:"#/properties/pause/minimum",keyword:"minimum",params:{comparison: ">=", limit: 0},message:"must be >= 0",schema:0,parentSchema:schema15.properties.pause,data:data3};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
}
}
if(data.onFailure !== undefined){
let data4 = data.onFailure;
if(!((data4 === "stop") || (data4 === "rollback"))){
const err10 = {instancePath:instancePath+"/onFailure",schemaPath:"#/properties/onFailure/enum",keyword:"enum",params:{allowedValues: schema15.properties.onFailure.enum},message:"must be equal to one of the allowed values",schema:schema15.properties.onFailure.enum,parentSchema:schema15.properties.onFailure,data:data4};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
}
}
}
else {
const err11 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema15.type,parentSchema:schema15,data};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
}
validate13.errors = vErrors;
return errors === 0;
}

const schema17 = {"title":"ManifestCommands","description":"The commands fleet runs for each tool, as argv prefixes, so that a tool can come from elsewhere: [\"nix\", \"run\", \"nixpkgs#nixos-rebuild\", \"--\"].","type":"object","additionalProperties":false,"properties":{"nix":{"description":"Command for nix (build, copy, eval).","$ref":"#/definitions/argv","default":["nix"]},"nixosRebuild":{"description":"Command for nixos-rebuild (deploy).","$ref":"#/definitions/argv","default":["nixos-rebuild"]},"nixosAnywhere":{"description":"Command for nixos-anywhere (bootstrap).","$ref":"#/definitions/argv","default":["nixos-anywhere"]},"nixosInstall":{"description":"Command for nixos-install (installing onto a mounted disk).","$ref":"#/definitions/argv","default":["nixos-install"]}}};
const schema18 = {"description":"A command as a non-empty list of words; no shell is involved.","type":"array","minItems":1,"items":{"$ref":"#/definitions/nonEmptyString"}};
const schema19 = {"description":"A string that is not empty.","type":"string","minLength":1};

function validate16(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(Array.isArray(data)){
if(data.length < 1){
const err0 = {instancePath,schemaPath:"#/minItems",keyword:"minItems",params:{limit: 1},message:"must NOT have fewer than 1 items",schema:1,parentSchema:schema18,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
const len0 = data.length;
for(let i0=0; i0<len0; i0++){
let data0 = data[i0];
if(typeof data0 === "string"){
if(func3(data0) < 1){
const err1 = {instancePath:instancePath+"/" + i0,schemaPath:"#/definitions/nonEmptyString/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters",schema:1,parentSchema:schema19,data:data0};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
else {
const err2 = {instancePath:instancePath+"/" + i0,schemaPath:"#/definitions/nonEmptyString/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema19.type,parentSchema:schema19,data:data0};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
}
else {
const err3 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "array"},message:"must be array",schema:schema18.type,parentSchema:schema18,data};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
validate16.errors = vErrors;
return errors === 0;
}


function validate15(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
for(const key0 in data){
if(!((((key0 === "nix") || (key0 === "nixosRebuild")) || (key0 === "nixosAnywhere")) || (key0 === "nixosInstall"))){
const err0 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema17,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
if(data.nix !== undefined){
if(!(validate16(data.nix, {instancePath:instancePath+"/nix",parentData:data,parentDataProperty:"nix",rootData}))){
vErrors = appendErrors(vErrors, validate16.errors);
errors = vErrors.length;
}
}
if(data.nixosRebuild !== undefined){
if(!(validate16(data.nixosRebuild, {instancePath:instancePath+"/nixosRebuild",parentData:data,parentDataProperty:"nixosRebuild",rootData}))){
vErrors = appendErrors(vErrors, validate16.errors);
errors = vErrors.length;
}
}
if(data.nixosAnywhere !== undefined){
if(!(validate16(data.nixosAnywhere, {instancePath:instancePath+"/nixosAnywhere",parentData:data,parentDataProperty:"nixosAnywhere",rootData}))){
vErrors = appendErrors(vErrors, validate16.errors);
errors = vErrors.length;
}
}
if(data.nixosInstall !== undefined){
if(!(validate16(data.nixosInstall, {instancePath:instancePath+"/nixosInstall",parentData:data,parentDataProperty:"nixosInstall",rootData}))){
vErrors = appendErrors(vErrors, validate16.errors);
errors = vErrors.length;
}
}
}
else {
const err1 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema17.type,parentSchema:schema17,data};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
validate15.errors = vErrors;
return errors === 0;
}

const schema20 = {"title":"ManifestSsh","description":"How fleet runs ssh for every host.","type":"object","additionalProperties":false,"properties":{"options":{"description":"Extra ssh options for every connection, each Key=Value and passed as `-o Key=Value` (also to nix and nixos-rebuild through NIX_SSHOPTS). fleet's host-key options come first and win; these override fleet's connection defaults (ConnectTimeout, ServerAliveInterval, ServerAliveCountMax). fleet never adds, removes or reorders ssh's algorithms: a KexAlgorithms=… (or Ciphers, MACs) here or in your ssh configuration is what ssh negotiates, on every connection (docs/safety.md, \"ssh connections per host\").","type":"array","items":{"$ref":"#/definitions/sshOption"},"default":[]}}};
const schema21 = {"description":"An ssh option written Key=Value, passed as `-o Key=Value`.","type":"string","pattern":"^[A-Za-z][A-Za-z0-9]*=[^\\u0000\\r\\n]+$"};
const pattern6 = new RegExp("^[A-Za-z][A-Za-z0-9]*=[^\\u0000\\r\\n]+$", "u");

function validate22(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
for(const key0 in data){
if(!(key0 === "options")){
const err0 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema20,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
if(data.options !== undefined){
let data0 = data.options;
if(Array.isArray(data0)){
const len0 = data0.length;
for(let i0=0; i0<len0; i0++){
let data1 = data0[i0];
if(typeof data1 === "string"){
if(!pattern6.test(data1)){
const err1 = {instancePath:instancePath+"/options/" + i0,schemaPath:"#/definitions/sshOption/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z][A-Za-z0-9]*=[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[A-Za-z][A-Za-z0-9]*=[^\\u0000\\r\\n]+$"+"\"",schema:"^[A-Za-z][A-Za-z0-9]*=[^\\u0000\\r\\n]+$",parentSchema:schema21,data:data1};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
else {
const err2 = {instancePath:instancePath+"/options/" + i0,schemaPath:"#/definitions/sshOption/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema21.type,parentSchema:schema21,data:data1};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
}
else {
const err3 = {instancePath:instancePath+"/options",schemaPath:"#/properties/options/type",keyword:"type",params:{type: "array"},message:"must be array",schema:schema20.properties.options.type,parentSchema:schema20.properties.options,data:data0};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
}
else {
const err4 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema20.type,parentSchema:schema20,data};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
validate22.errors = vErrors;
return errors === 0;
}

const schema22 = {"title":"ManifestHost","description":"One machine: how to reach it and how to deploy it.","type":"object","additionalProperties":false,"properties":{"target":{"description":"Where the host is reached: [user@]host[:port], or \"local\" for the machine fleet runs on (no ssh). Defaults to the host's name.","$ref":"#/definitions/endpoint"},"user":{"description":"ssh user. Anyone but root deploys through sudo on the target. A user written in target wins over a default; a host's own user must agree with its target.","$ref":"#/definitions/safeWord","default":"root"},"port":{"description":"ssh port. A port written in target wins over a default; a host's own port must agree with its target.","type":"integer","minimum":1,"maximum":65535,"default":22},"identityFile":{"description":"Private key ssh authenticates with (ssh -i).","$ref":"#/definitions/path"},"hostKey":{"description":"The host's public SSH host key(s), pinned: ssh refuses any other, and your own known_hosts is not consulted for this host. One key or a list of keys. Without hostKey (and without a key policy that pushes the host key), ssh checks the host strictly against your own known_hosts.","type":["string","array"],"pattern":"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$","minItems":1,"items":{"$ref":"#/definitions/publicKey"}},"jump":{"description":"A jump host (bastion) the host is reached through, for every connection fleet and Nix open to it (the copy included): [user@]host[:port], or {target, hostKey, identityFile} to pin the jump host's key and choose its identity. fleet gives the jump hop its own settings (BatchMode, strict host keys, timeouts, the identity), which ssh does not pass to a ProxyJump given in ssh.options, through an ssh config it writes for the run (ssh -F, including your own ~/.ssh/config and /etc/ssh/ssh_config). colmena: deployment.targetHost with ProxyJump in ssh_config; deploy-rs: sshOpts [\"-J\", …]; nixos-rebuild: NIX_SSHOPTS=\"-J …\". A ProxyJump=[user@]host[:port] in ssh.options (one hop) is taken as the jump host of every host without one.","$ref":"#/definitions/jump"},"trustOnFirstUse":{"description":"Accept an unknown host key on first contact (ssh StrictHostKeyChecking=accept-new), keep it in .fleet/known_hosts.tofu beside the manifest and print its fingerprint. Without this, a host is checked strictly: against the keys fleet knows (hostKey, or the host key its key policy pushes), else against your own known_hosts.","type":"boolean","default":false},"mode":{"description":"What activation does: switch (boot default and live now), boot (boot default only, applied on the next reboot), test (live now, not the boot default), dry-activate (print what would change).","enum":["switch","boot","test","dry-activate"],"default":"switch"},"specialisation":{"description":"Activate this specialisation of the built system (<system>/specialisation/<name>, NixOS's specialisation.<name>) instead of the system itself, in switch and test mode: nixos-rebuild's --specialisation/-c, nh's --specialisation/-s (--specialisation on fleet apply overrides it). The system itself stays the boot default (boot and dry-activate use it, as nixos-rebuild does). Checked to exist on the target before anything is activated; fleet status compares the live system with it.","$ref":"#/definitions/safeWord"},"buildHost":{"description":"Where the system is built: \"local\" (this machine, with the remote builders of your nix.conf `builders =` as Nix uses them), \"target\" (the host itself: fleet evaluates here, copies the derivations to the target and the target builds them, substituting from its own binary caches; colmena's buildOnTarget, deploy-rs's remoteBuild; the way to deploy aarch64 hosts from an x86 machine; not for a host with bootstrap options, whose target is not NixOS yet), the name of a host in this manifest (reached the way that host is), or [user@]host[:port] (a remote builder through Nix's own remote building; the result comes back here and is copied on).","$ref":"#/definitions/endpoint","default":"local"},"substitutes":{"description":"Let the target fetch what its own binary caches (its nix.conf substituters) have while the closure is copied (nix copy --substitute-on-destination; nixos-anywhere without --no-substitute-on-destination); only what no cache has is uploaded from this machine, and a target whose cache is unreachable still gets everything uploaded. false: upload the whole missing closure from here (a target without a usable cache, or a fast link to it). --no-substitutes turns it off for a run.","type":"boolean","default":true},"tags":{"description":"Labels for selecting hosts (fleet apply --tag homelab).","type":"array","uniqueItems":true,"items":{"$ref":"#/definitions/safeWord"},"default":[]},"keys":{"$ref":"#/definitions/keys"},"bootstrap":{"$ref":"#/definitions/bootstrap"},"rollback":{"$ref":"#/definitions/rollback"},"healthChecks":{"description":"Commands run on the target after a live activation (switch, test), once the fresh connection is confirmed; a host succeeds only when all of them exit 0, and fleet check runs them too.","type":"array","items":{"$ref":"#/definitions/healthCheck"},"default":[]},"secrets":{"description":"Secret files fleet uploads to the host at deploy time (colmena's deployment.keys), by name: read on this machine at run time from a command, a file or an environment variable, sent over ssh's stdin, never through the Nix store, an argv or a log. A host's secrets are merged with those in defaults by name: a host's entry replaces the default entry of the same name whole.","type":"object","propertyNames":{"$ref":"#/definitions/safeWord"},"additionalProperties":{"$ref":"#/definitions/secret"},"default":{}},"tolerateUnitFailures":{"description":"Count an activation in which some systemd units failed (switch-to-configuration exit 4) as a success.","type":"boolean","default":false},"privilegeEscalation":{"description":"How a non-root ssh user (or fleet itself, for a local target when it does not run as root) becomes root for every privileged step: sudo (`sudo -n --`), doas (`doas -n --`), run0 (`run0 --no-ask-password --`, systemd 256 or newer; without a terminal it hands the command its stdin and output directly), or your own words put before each command, e.g. [sudo, -H, --] (colmena's privilegeEscalationCommand; deploy-rs's sudo; nixos-rebuild-ng's --sudo/--elevate). Without a password each must work non-interactively: NOPASSWD in sudoers, nopass in doas.conf, a polkit rule for run0.","type":["string","array"],"pattern":"^(sudo|doas|run0)$","minItems":1,"items":{"$ref":"#/definitions/nonEmptyString"},"default":"sudo"},"askSudoPassword":{"description":"fleet asks for the sudo password once per run on the terminal (never echoed) and hands it to each privileged command on its stdin (`sudo -S -k -p ''`), never in an argv, environment, file, log or report (nixos-rebuild-ng's --ask-sudo-password; the same as `fleet apply --ask-sudo-password`). Only with privilegeEscalation sudo: doas reads a password only from a terminal and run0 asks polkit, and fleet's commands have no terminal. Without a terminal it is a usage error.","type":"boolean","default":false}}};
const schema23 = {"title":"ManifestEndpoint","description":"\"local\", or [user@]host[:port] where host is a name, an IPv4 address or a bracketed IPv6 address (\"[2001:db8::1]:2222\"); an IPv6 address without a port may be written bare.","type":"string","pattern":"^(local|([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))$"};
const schema26 = {"description":"An SSH public key as in known_hosts without the host part: \"<type> <base64>\", optionally followed by a comment, e.g. \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA…\".","type":"string","pattern":"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$"};
const func0 = require("ajv/dist/runtime/equal").default;
const pattern7 = new RegExp("^(local|([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))$", "u");
const pattern10 = new RegExp("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$", "u");
const pattern36 = new RegExp("^(sudo|doas|run0)$", "u");
const schema27 = {"title":"ManifestJump","description":"A jump host: [user@]host[:port], or an object with its own pinned key and identity.","type":["string","object"],"pattern":"^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$","additionalProperties":false,"required":["target"],"properties":{"target":{"description":"[user@]host[:port] of the jump host.","$ref":"#/definitions/jumpEndpoint"},"hostKey":{"description":"The jump host's public SSH host key(s), pinned in fleet's own known_hosts; without it, ssh checks the jump host strictly against your own known_hosts.","type":["string","array"],"pattern":"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$","minItems":1,"items":{"$ref":"#/definitions/publicKey"}},"identityFile":{"description":"The ssh identity for the jump host (default: the host's identityFile).","$ref":"#/definitions/path"}}};
const schema28 = {"description":"[user@]host[:port] of a jump host, as a host's target is written (user default: the host's user; port default 22).","type":"string","pattern":"^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$"};
const pattern12 = new RegExp("^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$", "u");

function validate25(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if((typeof data !== "string") && (!(data && typeof data == "object" && !Array.isArray(data)))){
const err0 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: schema27.type},message:"must be string,object",schema:schema27.type,parentSchema:schema27,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
if(typeof data === "string"){
if(!pattern12.test(data)){
const err1 = {instancePath,schemaPath:"#/pattern",keyword:"pattern",params:{pattern: "^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$"},message:"must match pattern \""+"^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$"+"\"",schema:"^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$",parentSchema:schema27,data};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
if(data && typeof data == "object" && !Array.isArray(data)){
if(data.target === undefined){
const err2 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "target"},message:"must have required property '"+"target"+"'",schema:schema27.required,parentSchema:schema27,data};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
for(const key0 in data){
if(!(((key0 === "target") || (key0 === "hostKey")) || (key0 === "identityFile"))){
const err3 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema27,data};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
if(data.target !== undefined){
let data0 = data.target;
if(typeof data0 === "string"){
if(!pattern12.test(data0)){
const err4 = {instancePath:instancePath+"/target",schemaPath:"#/definitions/jumpEndpoint/pattern",keyword:"pattern",params:{pattern: "^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$"},message:"must match pattern \""+"^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$"+"\"",schema:"^([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$",parentSchema:schema28,data:data0};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
else {
const err5 = {instancePath:instancePath+"/target",schemaPath:"#/definitions/jumpEndpoint/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema28.type,parentSchema:schema28,data:data0};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
}
if(data.hostKey !== undefined){
let data1 = data.hostKey;
if((typeof data1 !== "string") && (!(Array.isArray(data1)))){
const err6 = {instancePath:instancePath+"/hostKey",schemaPath:"#/properties/hostKey/type",keyword:"type",params:{type: schema27.properties.hostKey.type},message:"must be string,array",schema:schema27.properties.hostKey.type,parentSchema:schema27.properties.hostKey,data:data1};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
if(typeof data1 === "string"){
if(!pattern10.test(data1)){
const err7 = {instancePath:instancePath+"/hostKey",schemaPath:"#/properties/hostKey/pattern",keyword:"pattern",params:{pattern: "^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$"},message:"must match pattern \""+"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$"+"\"",schema:"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$",parentSchema:schema27.properties.hostKey,data:data1};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
}
if(Array.isArray(data1)){
if(data1.length < 1){
const err8 = {instancePath:instancePath+"/hostKey",schemaPath:"#/properties/hostKey/minItems",keyword:"minItems",params:{limit: 1},message:"must NOT have fewer than 1 items",schema:1,parentSchema:schema27.properties.hostKey,data:data1};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
const len0 = data1.length;
for(let i0=0; i0<len0; i0++){
let data2 = data1[i0];
if(typeof data2 === "string"){
if(!pattern10.test(data2)){
const err9 = {instancePath:instancePath+"/hostKey/" + i0,schemaPath:"#/definitions/publicKey/pattern",keyword:"pattern",params:{pattern: "^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$"},message:"must match pattern \""+"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$"+"\"",schema:"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$",parentSchema:schema26,data:data2};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
}
else {
const err10 = {instancePath:instancePath+"/hostKey/" + i0,schemaPath:"#/definitions/publicKey/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema26.type,parentSchema:schema26,data:data2};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
}
}
}
}
if(data.identityFile !== undefined){
let data3 = data.identityFile;
if(typeof data3 === "string"){
if(!pattern2.test(data3)){
const err11 = {instancePath:instancePath+"/identityFile",schemaPath:"#/definitions/path/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^\\u0000\\r\\n]+$"+"\"",schema:"^[^\\u0000\\r\\n]+$",parentSchema:schema14,data:data3};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
}
}
else {
const err12 = {instancePath:instancePath+"/identityFile",schemaPath:"#/definitions/path/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema14.type,parentSchema:schema14,data:data3};
if(vErrors === null){
vErrors = [err12];
}
else {
vErrors.push(err12);
}
errors++;
}
}
}
validate25.errors = vErrors;
return errors === 0;
}

const schema34 = {"title":"ManifestKeys","description":"Secret keys fleet puts on the host: its SSH host key (so it keeps its identity across reinstalls) and an agenix identity. Without keys, fleet pushes nothing.","type":"object","additionalProperties":false,"properties":{"push":{"description":"When keys are pushed: bootstrap (only with an install, through nixos-anywhere's extra files), always (also before every deploy when missing or different on the target), never.","enum":["bootstrap","always","never"],"default":"bootstrap"},"hostKeyFile":{"description":"Private ed25519 host key; its public half is <file>.pub.","$ref":"#/definitions/path"},"hostKeySearch":{"description":"Directories searched for <dir>/<host>/ssh_host_ed25519_key when hostKeyFile is not set. They need not exist when the manifest is validated.","type":"array","items":{"$ref":"#/definitions/path"},"default":[]},"generate":{"description":"Make an ed25519 host key when none is found, kept at hostKeyFile or <first hostKeySearch dir>/<host>/ssh_host_ed25519_key.","type":"boolean","default":false},"agenixKeyFile":{"description":"Private agenix (age/ssh) identity pushed beside the host key.","$ref":"#/definitions/path"},"agenixKeyName":{"description":"File name of the agenix identity in destination.","$ref":"#/definitions/safeWord","default":"global_ed25519"},"destination":{"description":"Directory on the target that receives the keys: /etc/ssh, or a persist root such as /persist/etc/ssh on impermanent hosts.","$ref":"#/definitions/absolutePath","default":"/etc/ssh"}}};
const schema39 = {"description":"An absolute path on the target, starting with \"/\". No NUL or line breaks.","type":"string","pattern":"^/[^\\u0000\\r\\n]*$"};
const pattern24 = new RegExp("^/[^\\u0000\\r\\n]*$", "u");

function validate27(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
for(const key0 in data){
if(!(((((((key0 === "push") || (key0 === "hostKeyFile")) || (key0 === "hostKeySearch")) || (key0 === "generate")) || (key0 === "agenixKeyFile")) || (key0 === "agenixKeyName")) || (key0 === "destination"))){
const err0 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema34,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
if(data.push !== undefined){
let data0 = data.push;
if(!(((data0 === "bootstrap") || (data0 === "always")) || (data0 === "never"))){
const err1 = {instancePath:instancePath+"/push",schemaPath:"#/properties/push/enum",keyword:"enum",params:{allowedValues: schema34.properties.push.enum},message:"must be equal to one of the allowed values",schema:schema34.properties.push.enum,parentSchema:schema34.properties.push,data:data0};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
if(data.hostKeyFile !== undefined){
let data1 = data.hostKeyFile;
if(typeof data1 === "string"){
if(!pattern2.test(data1)){
const err2 = {instancePath:instancePath+"/hostKeyFile",schemaPath:"#/definitions/path/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^\\u0000\\r\\n]+$"+"\"",schema:"^[^\\u0000\\r\\n]+$",parentSchema:schema14,data:data1};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
else {
const err3 = {instancePath:instancePath+"/hostKeyFile",schemaPath:"#/definitions/path/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema14.type,parentSchema:schema14,data:data1};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
if(data.hostKeySearch !== undefined){
let data2 = data.hostKeySearch;
if(Array.isArray(data2)){
const len0 = data2.length;
for(let i0=0; i0<len0; i0++){
let data3 = data2[i0];
if(typeof data3 === "string"){
if(!pattern2.test(data3)){
const err4 = {instancePath:instancePath+"/hostKeySearch/" + i0,schemaPath:"#/definitions/path/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^\\u0000\\r\\n]+$"+"\"",schema:"^[^\\u0000\\r\\n]+$",parentSchema:schema14,data:data3};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
else {
const err5 = {instancePath:instancePath+"/hostKeySearch/" + i0,schemaPath:"#/definitions/path/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema14.type,parentSchema:schema14,data:data3};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
}
}
else {
const err6 = {instancePath:instancePath+"/hostKeySearch",schemaPath:"#/properties/hostKeySearch/type",keyword:"type",params:{type: "array"},message:"must be array",schema:schema34.properties.hostKeySearch.type,parentSchema:schema34.properties.hostKeySearch,data:data2};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
}
if(data.generate !== undefined){
let data4 = data.generate;
if(typeof data4 !== "boolean"){
const err7 = {instancePath:instancePath+"/generate",schemaPath:"#/properties/generate/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema34.properties.generate.type,parentSchema:schema34.properties.generate,data:data4};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
}
if(data.agenixKeyFile !== undefined){
let data5 = data.agenixKeyFile;
if(typeof data5 === "string"){
if(!pattern2.test(data5)){
const err8 = {instancePath:instancePath+"/agenixKeyFile",schemaPath:"#/definitions/path/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^\\u0000\\r\\n]+$"+"\"",schema:"^[^\\u0000\\r\\n]+$",parentSchema:schema14,data:data5};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
}
else {
const err9 = {instancePath:instancePath+"/agenixKeyFile",schemaPath:"#/definitions/path/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema14.type,parentSchema:schema14,data:data5};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
}
if(data.agenixKeyName !== undefined){
let data6 = data.agenixKeyName;
if(typeof data6 === "string"){
if(!pattern8.test(data6)){
const err10 = {instancePath:instancePath+"/agenixKeyName",schemaPath:"#/definitions/safeWord/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$"},message:"must match pattern \""+"^[A-Za-z0-9][A-Za-z0-9._-]*$"+"\"",schema:"^[A-Za-z0-9][A-Za-z0-9._-]*$",parentSchema:schema24,data:data6};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
}
}
else {
const err11 = {instancePath:instancePath+"/agenixKeyName",schemaPath:"#/definitions/safeWord/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema24.type,parentSchema:schema24,data:data6};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
}
}
if(data.destination !== undefined){
let data7 = data.destination;
if(typeof data7 === "string"){
if(!pattern24.test(data7)){
const err12 = {instancePath:instancePath+"/destination",schemaPath:"#/definitions/absolutePath/pattern",keyword:"pattern",params:{pattern: "^/[^\\u0000\\r\\n]*$"},message:"must match pattern \""+"^/[^\\u0000\\r\\n]*$"+"\"",schema:"^/[^\\u0000\\r\\n]*$",parentSchema:schema39,data:data7};
if(vErrors === null){
vErrors = [err12];
}
else {
vErrors.push(err12);
}
errors++;
}
}
else {
const err13 = {instancePath:instancePath+"/destination",schemaPath:"#/definitions/absolutePath/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema39.type,parentSchema:schema39,data:data7};
if(vErrors === null){
vErrors = [err13];
}
else {
vErrors.push(err13);
}
errors++;
}
}
}
else {
const err14 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema34.type,parentSchema:schema34,data};
if(vErrors === null){
vErrors = [err14];
}
else {
vErrors.push(err14);
}
errors++;
}
validate27.errors = vErrors;
return errors === 0;
}

const schema40 = {"title":"ManifestBootstrap","description":"The host may be installed with nixos-anywhere and disko when a probe proves it is not NixOS yet (a host that answers as NixOS is never wiped). true or {} means with the defaults below; false turns off a bootstrap given in defaults.","type":["boolean","object"],"additionalProperties":false,"properties":{"noDiskoDeps":{"description":"Build the disko script without its dependencies (nixos-anywhere --no-disko-deps), for targets with little RAM (about 1 GB).","type":"boolean","default":false},"noReboot":{"description":"Do not reboot into the new system after installing (nixos-anywhere --no-reboot).","type":"boolean","default":false},"debug":{"description":"Run nixos-anywhere with --debug.","type":"boolean","default":false},"phases":{"description":"nixos-anywhere --phases. kexec is off by default: list it to boot an installer first.","type":"array","minItems":1,"uniqueItems":true,"items":{"enum":["disko","install","reboot","kexec"]},"default":["disko","install","reboot"]},"extraFiles":{"description":"Directory copied to / of the new system (nixos-anywhere --extra-files).","$ref":"#/definitions/path"},"diskEncryptionKeys":{"description":"Keys copied to the installer for disk encryption (nixos-anywhere --disk-encryption-keys REMOTE LOCAL).","type":"array","items":{"$ref":"#/definitions/diskEncryptionKey"},"default":[]},"generateHardwareConfig":{"$ref":"#/definitions/generateHardwareConfig"},"waitTimeout":{"description":"Seconds to wait for the installed system to answer after the reboot.","$ref":"#/definitions/seconds","default":300}}};
const schema47 = {"description":"A whole number of seconds, at least 1.","type":"integer","minimum":1};
const schema42 = {"title":"ManifestDiskEncryptionKey","description":"One disk encryption key for the installer.","type":"object","additionalProperties":false,"required":["remote","local"],"properties":{"remote":{"description":"Where the key is placed on the installer, e.g. /tmp/disk.key.","$ref":"#/definitions/absolutePath"},"local":{"description":"The key file on this machine.","$ref":"#/definitions/path"}}};

function validate30(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
if(data.remote === undefined){
const err0 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "remote"},message:"must have required property '"+"remote"+"'",schema:schema42.required,parentSchema:schema42,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
if(data.local === undefined){
const err1 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "local"},message:"must have required property '"+"local"+"'",schema:schema42.required,parentSchema:schema42,data};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
for(const key0 in data){
if(!((key0 === "remote") || (key0 === "local"))){
const err2 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema42,data};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
if(data.remote !== undefined){
let data0 = data.remote;
if(typeof data0 === "string"){
if(!pattern24.test(data0)){
const err3 = {instancePath:instancePath+"/remote",schemaPath:"#/definitions/absolutePath/pattern",keyword:"pattern",params:{pattern: "^/[^\\u0000\\r\\n]*$"},message:"must match pattern \""+"^/[^\\u0000\\r\\n]*$"+"\"",schema:"^/[^\\u0000\\r\\n]*$",parentSchema:schema39,data:data0};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
else {
const err4 = {instancePath:instancePath+"/remote",schemaPath:"#/definitions/absolutePath/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema39.type,parentSchema:schema39,data:data0};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
if(data.local !== undefined){
let data1 = data.local;
if(typeof data1 === "string"){
if(!pattern2.test(data1)){
const err5 = {instancePath:instancePath+"/local",schemaPath:"#/definitions/path/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^\\u0000\\r\\n]+$"+"\"",schema:"^[^\\u0000\\r\\n]+$",parentSchema:schema14,data:data1};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
}
else {
const err6 = {instancePath:instancePath+"/local",schemaPath:"#/definitions/path/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema14.type,parentSchema:schema14,data:data1};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
}
}
else {
const err7 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema42.type,parentSchema:schema42,data};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
validate30.errors = vErrors;
return errors === 0;
}

const schema45 = {"title":"ManifestGenerateHardwareConfig","description":"Generate the hardware configuration during the install (nixos-anywhere --generate-hardware-config BACKEND PATH).","type":"object","additionalProperties":false,"required":["backend","path"],"properties":{"backend":{"description":"Generator run on the target.","enum":["nixos-facter","nixos-generate-config"]},"path":{"description":"File written on this machine, e.g. ./hosts/vps/facter.json.","$ref":"#/definitions/path"}}};

function validate32(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
if(data.backend === undefined){
const err0 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "backend"},message:"must have required property '"+"backend"+"'",schema:schema45.required,parentSchema:schema45,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
if(data.path === undefined){
const err1 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "path"},message:"must have required property '"+"path"+"'",schema:schema45.required,parentSchema:schema45,data};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
for(const key0 in data){
if(!((key0 === "backend") || (key0 === "path"))){
const err2 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema45,data};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
if(data.backend !== undefined){
let data0 = data.backend;
if(!((data0 === "nixos-facter") || (data0 === "nixos-generate-config"))){
const err3 = {instancePath:instancePath+"/backend",schemaPath:"#/properties/backend/enum",keyword:"enum",params:{allowedValues: schema45.properties.backend.enum},message:"must be equal to one of the allowed values",schema:schema45.properties.backend.enum,parentSchema:schema45.properties.backend,data:data0};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
if(data.path !== undefined){
let data1 = data.path;
if(typeof data1 === "string"){
if(!pattern2.test(data1)){
const err4 = {instancePath:instancePath+"/path",schemaPath:"#/definitions/path/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^\\u0000\\r\\n]+$"+"\"",schema:"^[^\\u0000\\r\\n]+$",parentSchema:schema14,data:data1};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
else {
const err5 = {instancePath:instancePath+"/path",schemaPath:"#/definitions/path/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema14.type,parentSchema:schema14,data:data1};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
}
}
else {
const err6 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema45.type,parentSchema:schema45,data};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
validate32.errors = vErrors;
return errors === 0;
}


function validate29(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if((typeof data !== "boolean") && (!(data && typeof data == "object" && !Array.isArray(data)))){
const err0 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: schema40.type},message:"must be boolean,object",schema:schema40.type,parentSchema:schema40,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
if(data && typeof data == "object" && !Array.isArray(data)){
for(const key0 in data){
if(!((((((((key0 === "noDiskoDeps") || (key0 === "noReboot")) || (key0 === "debug")) || (key0 === "phases")) || (key0 === "extraFiles")) || (key0 === "diskEncryptionKeys")) || (key0 === "generateHardwareConfig")) || (key0 === "waitTimeout"))){
const err1 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema40,data};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
if(data.noDiskoDeps !== undefined){
let data0 = data.noDiskoDeps;
if(typeof data0 !== "boolean"){
const err2 = {instancePath:instancePath+"/noDiskoDeps",schemaPath:"#/properties/noDiskoDeps/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema40.properties.noDiskoDeps.type,parentSchema:schema40.properties.noDiskoDeps,data:data0};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
if(data.noReboot !== undefined){
let data1 = data.noReboot;
if(typeof data1 !== "boolean"){
const err3 = {instancePath:instancePath+"/noReboot",schemaPath:"#/properties/noReboot/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema40.properties.noReboot.type,parentSchema:schema40.properties.noReboot,data:data1};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
if(data.debug !== undefined){
let data2 = data.debug;
if(typeof data2 !== "boolean"){
const err4 = {instancePath:instancePath+"/debug",schemaPath:"#/properties/debug/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema40.properties.debug.type,parentSchema:schema40.properties.debug,data:data2};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
if(data.phases !== undefined){
let data3 = data.phases;
if(Array.isArray(data3)){
if(data3.length < 1){
const err5 = {instancePath:instancePath+"/phases",schemaPath:"#/properties/phases/minItems",keyword:"minItems",params:{limit: 1},message:"must NOT have fewer than 1 items",schema:1,parentSchema:schema40.properties.phases,data:data3};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
const len0 = data3.length;
for(let i0=0; i0<len0; i0++){
let data4 = data3[i0];
if(!((((data4 === "disko") || (data4 === "install")) || (data4 === "reboot")) || (data4 === "kexec"))){
const err6 = {instancePath:instancePath+"/phases/" + i0,schemaPath:"#/properties/phases/items/enum",keyword:"enum",params:{allowedValues: schema40.properties.phases.items.enum},message:"must be equal to one of the allowed values",schema:schema40.properties.phases.items.enum,parentSchema:schema40.properties.phases.items,data:data4};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
}
let i1 = data3.length;
let j0;
if(i1 > 1){
outer0:
for(;i1--;){
for(j0 = i1; j0--;){
if(func0(data3[i1], data3[j0])){
const err7 = {instancePath:instancePath+"/phases",schemaPath:"#/properties/phases/uniqueItems",keyword:"uniqueItems",params:{i: i1, j: j0},message:"must NOT have duplicate items (items ## "+j0+" and "+i1+" are identical)",schema:true,parentSchema:schema40.properties.phases,data:data3};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
break outer0;
}
}
}
}
}
else {
const err8 = {instancePath:instancePath+"/phases",schemaPath:"#/properties/phases/type",keyword:"type",params:{type: "array"},message:"must be array",schema:schema40.properties.phases.type,parentSchema:schema40.properties.phases,data:data3};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
}
if(data.extraFiles !== undefined){
let data5 = data.extraFiles;
if(typeof data5 === "string"){
if(!pattern2.test(data5)){
const err9 = {instancePath:instancePath+"/extraFiles",schemaPath:"#/definitions/path/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^\\u0000\\r\\n]+$"+"\"",schema:"^[^\\u0000\\r\\n]+$",parentSchema:schema14,data:data5};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
}
else {
const err10 = {instancePath:instancePath+"/extraFiles",schemaPath:"#/definitions/path/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema14.type,parentSchema:schema14,data:data5};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
}
}
if(data.diskEncryptionKeys !== undefined){
let data6 = data.diskEncryptionKeys;
if(Array.isArray(data6)){
const len1 = data6.length;
for(let i2=0; i2<len1; i2++){
if(!(validate30(data6[i2], {instancePath:instancePath+"/diskEncryptionKeys/" + i2,parentData:data6,parentDataProperty:i2,rootData}))){
vErrors = appendErrors(vErrors, validate30.errors);
errors = vErrors.length;
}
}
}
else {
const err11 = {instancePath:instancePath+"/diskEncryptionKeys",schemaPath:"#/properties/diskEncryptionKeys/type",keyword:"type",params:{type: "array"},message:"must be array",schema:schema40.properties.diskEncryptionKeys.type,parentSchema:schema40.properties.diskEncryptionKeys,data:data6};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
}
}
if(data.generateHardwareConfig !== undefined){
if(!(validate32(data.generateHardwareConfig, {instancePath:instancePath+"/generateHardwareConfig",parentData:data,parentDataProperty:"generateHardwareConfig",rootData}))){
vErrors = appendErrors(vErrors, validate32.errors);
errors = vErrors.length;
}
}
if(data.waitTimeout !== undefined){
let data9 = data.waitTimeout;
if(!(((typeof data9 == "number") && (!(data9 % 1) && !isNaN(data9))) && (isFinite(data9)))){
const err12 = {instancePath:instancePath+"/waitTimeout",schemaPath:"#/definitions/seconds/type",keyword:"type",params:{type: "integer"},message:"must be integer",schema:schema47.type,parentSchema:schema47,data:data9};
if(vErrors === null){
vErrors = [err12];
}
else {
vErrors.push(err12);
}
errors++;
}
if((typeof data9 == "number") && (isFinite(data9))){
if(data9 < 1 || isNaN(data9)){
const err13 = {instancePath:instancePath+"/waitTimeout",schemaPath:"#/definitions/seconds/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1",schema:1,parentSchema:schema47,data:data9};
if(vErrors === null){
vErrors = [err13];
}
else {
vErrors.push(err13);
}
errors++;
}
}
}
}
validate29.errors = vErrors;
return errors === 0;
}

const schema48 = {"title":"ManifestRollback","description":"The watchdog armed on the target before a live activation (switch, test): unless fleet confirms over a brand-new ssh connection in time, the target switches back to its previous generation on its own.","type":"object","additionalProperties":false,"properties":{"enabled":{"description":"Arm the watchdog. boot and dry-activate never arm it.","type":"boolean","default":true},"timeout":{"description":"Seconds from arming the watchdog (just before activation) until the target rolls back unless confirmed; must exceed the activation time plus a new ssh connection.","$ref":"#/definitions/seconds","default":90}}};

function validate35(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
for(const key0 in data){
if(!((key0 === "enabled") || (key0 === "timeout"))){
const err0 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema48,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
if(data.enabled !== undefined){
let data0 = data.enabled;
if(typeof data0 !== "boolean"){
const err1 = {instancePath:instancePath+"/enabled",schemaPath:"#/properties/enabled/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema48.properties.enabled.type,parentSchema:schema48.properties.enabled,data:data0};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
if(data.timeout !== undefined){
let data1 = data.timeout;
if(!(((typeof data1 == "number") && (!(data1 % 1) && !isNaN(data1))) && (isFinite(data1)))){
const err2 = {instancePath:instancePath+"/timeout",schemaPath:"#/definitions/seconds/type",keyword:"type",params:{type: "integer"},message:"must be integer",schema:schema47.type,parentSchema:schema47,data:data1};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
if((typeof data1 == "number") && (isFinite(data1))){
if(data1 < 1 || isNaN(data1)){
const err3 = {instancePath:instancePath+"/timeout",schemaPath:"#/definitions/seconds/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1",schema:1,parentSchema:schema47,data:data1};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
}
}
else {
const err4 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema48.type,parentSchema:schema48,data};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
validate35.errors = vErrors;
return errors === 0;
}

const schema50 = {"title":"ManifestHealthCheck","description":"A command run on the target as root (through the host's privilegeEscalation for a non-root ssh user) after a live activation, and by fleet check.","type":"object","additionalProperties":false,"required":["name","command"],"properties":{"name":{"description":"Shown in progress and reports.","$ref":"#/definitions/nonEmptyString"},"command":{"description":"A list of words run as is, or one string run with sh -c.","type":["string","array"],"minLength":1,"minItems":1,"items":{"$ref":"#/definitions/nonEmptyString"}},"timeout":{"description":"Seconds before the check counts as failed.","$ref":"#/definitions/seconds","default":30}}};

function validate37(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
if(data.name === undefined){
const err0 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "name"},message:"must have required property '"+"name"+"'",schema:schema50.required,parentSchema:schema50,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
if(data.command === undefined){
const err1 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "command"},message:"must have required property '"+"command"+"'",schema:schema50.required,parentSchema:schema50,data};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
for(const key0 in data){
if(!(((key0 === "name") || (key0 === "command")) || (key0 === "timeout"))){
const err2 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema50,data};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
if(data.name !== undefined){
let data0 = data.name;
if(typeof data0 === "string"){
if(func3(data0) < 1){
const err3 = {instancePath:instancePath+"/name",schemaPath:"#/definitions/nonEmptyString/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters",schema:1,parentSchema:schema19,data:data0};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
else {
const err4 = {instancePath:instancePath+"/name",schemaPath:"#/definitions/nonEmptyString/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema19.type,parentSchema:schema19,data:data0};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
if(data.command !== undefined){
let data1 = data.command;
if((typeof data1 !== "string") && (!(Array.isArray(data1)))){
const err5 = {instancePath:instancePath+"/command",schemaPath:"#/properties/command/type",keyword:"type",params:{type: schema50.properties.command.type},message:"must be string,array",schema:schema50.properties.command.type,parentSchema:schema50.properties.command,data:data1};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
if(typeof data1 === "string"){
if(func3(data1) < 1){
const err6 = {instancePath:instancePath+"/command",schemaPath:"#/properties/command/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters",schema:1,parentSchema:schema50.properties.command,data:data1};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
}
if(Array.isArray(data1)){
if(data1.length < 1){
const err7 = {instancePath:instancePath+"/command",schemaPath:"#/properties/command/minItems",keyword:"minItems",params:{limit: 1},message:"must NOT have fewer than 1 items",schema:1,parentSchema:schema50.properties.command,data:data1};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
const len0 = data1.length;
for(let i0=0; i0<len0; i0++){
let data2 = data1[i0];
if(typeof data2 === "string"){
if(func3(data2) < 1){
const err8 = {instancePath:instancePath+"/command/" + i0,schemaPath:"#/definitions/nonEmptyString/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters",schema:1,parentSchema:schema19,data:data2};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
}
else {
const err9 = {instancePath:instancePath+"/command/" + i0,schemaPath:"#/definitions/nonEmptyString/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema19.type,parentSchema:schema19,data:data2};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
}
}
}
if(data.timeout !== undefined){
let data3 = data.timeout;
if(!(((typeof data3 == "number") && (!(data3 % 1) && !isNaN(data3))) && (isFinite(data3)))){
const err10 = {instancePath:instancePath+"/timeout",schemaPath:"#/definitions/seconds/type",keyword:"type",params:{type: "integer"},message:"must be integer",schema:schema47.type,parentSchema:schema47,data:data3};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
}
if((typeof data3 == "number") && (isFinite(data3))){
if(data3 < 1 || isNaN(data3)){
const err11 = {instancePath:instancePath+"/timeout",schemaPath:"#/definitions/seconds/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1",schema:1,parentSchema:schema47,data:data3};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
}
}
}
}
else {
const err12 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema50.type,parentSchema:schema50,data};
if(vErrors === null){
vErrors = [err12];
}
else {
vErrors.push(err12);
}
errors++;
}
validate37.errors = vErrors;
return errors === 0;
}

const schema55 = {"title":"ManifestSecret","description":"One secret file: where its content comes from (exactly one of command, file, env), where it goes on the target, with which owner, group and mode, and when it is uploaded. The content is read once per run, kept in memory only, and compared with the target's copy through a keyed digest: an unchanged secret is not uploaded again.","type":"object","additionalProperties":false,"properties":{"command":{"description":"A command run on this machine (no shell); its standard output, byte for byte, is the secret, e.g. [pass, show, infra/grafana]. A non-zero exit fails the host before anything on it changes.","$ref":"#/definitions/argv"},"file":{"description":"A file on this machine (relative to the manifest's directory) whose content is the secret.","$ref":"#/definitions/path"},"env":{"description":"An environment variable of the fleet process whose value is the secret; unset fails the host.","type":"string","pattern":"^[A-Za-z_][A-Za-z0-9_]*$"},"destination":{"description":"Absolute path of the file on the target. Default /run/keys/<name> (a tmpfs on NixOS: empty after a reboot, see fleet status and fleet push-secrets). A missing parent directory is created (root, 0755).","$ref":"#/definitions/absolutePath"},"owner":{"description":"User owning the file on the target. It must exist when the secret is uploaded: for a user the new system creates, use upload: after-activation.","$ref":"#/definitions/unixName","default":"root"},"group":{"description":"Group of the file on the target.","$ref":"#/definitions/unixName","default":"root"},"mode":{"description":"Permissions of the file, in octal.","type":"string","pattern":"^0?[0-7]{3}$","default":"0400"},"upload":{"description":"before-activation: uploaded before the new system is activated (it can use the secret at once); after-activation: after it is activated and verified (for an owner the new system creates). In dry-activate mode nothing is uploaded.","enum":["before-activation","after-activation"],"default":"before-activation"},"allowEmpty":{"description":"Accept an empty secret (a command that prints nothing, an empty file or variable). Off by default: an empty secret is almost always a source that failed quietly, so it fails the host's secrets step before anything is uploaded.","type":"boolean","default":false}}};
const schema58 = {"description":"A user or group name on the target: a letter or \"_\", then letters, digits, \"_\", \".\" or \"-\".","type":"string","pattern":"^[A-Za-z_][A-Za-z0-9_.-]*$"};
const pattern31 = new RegExp("^[A-Za-z_][A-Za-z0-9_]*$", "u");
const pattern33 = new RegExp("^[A-Za-z_][A-Za-z0-9_.-]*$", "u");
const pattern35 = new RegExp("^0?[0-7]{3}$", "u");

function validate39(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
for(const key0 in data){
if(!(func2.call(schema55.properties, key0))){
const err0 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema55,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
if(data.command !== undefined){
if(!(validate16(data.command, {instancePath:instancePath+"/command",parentData:data,parentDataProperty:"command",rootData}))){
vErrors = appendErrors(vErrors, validate16.errors);
errors = vErrors.length;
}
}
if(data.file !== undefined){
let data1 = data.file;
if(typeof data1 === "string"){
if(!pattern2.test(data1)){
const err1 = {instancePath:instancePath+"/file",schemaPath:"#/definitions/path/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^\\u0000\\r\\n]+$"+"\"",schema:"^[^\\u0000\\r\\n]+$",parentSchema:schema14,data:data1};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
else {
const err2 = {instancePath:instancePath+"/file",schemaPath:"#/definitions/path/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema14.type,parentSchema:schema14,data:data1};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
if(data.env !== undefined){
let data2 = data.env;
if(typeof data2 === "string"){
if(!pattern31.test(data2)){
const err3 = {instancePath:instancePath+"/env",schemaPath:"#/properties/env/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z_][A-Za-z0-9_]*$"},message:"must match pattern \""+"^[A-Za-z_][A-Za-z0-9_]*$"+"\"",schema:"^[A-Za-z_][A-Za-z0-9_]*$",parentSchema:schema55.properties.env,data:data2};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
else {
const err4 = {instancePath:instancePath+"/env",schemaPath:"#/properties/env/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema55.properties.env.type,parentSchema:schema55.properties.env,data:data2};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
if(data.destination !== undefined){
let data3 = data.destination;
if(typeof data3 === "string"){
if(!pattern24.test(data3)){
const err5 = {instancePath:instancePath+"/destination",schemaPath:"#/definitions/absolutePath/pattern",keyword:"pattern",params:{pattern: "^/[^\\u0000\\r\\n]*$"},message:"must match pattern \""+"^/[^\\u0000\\r\\n]*$"+"\"",schema:"^/[^\\u0000\\r\\n]*$",parentSchema:schema39,data:data3};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
}
else {
const err6 = {instancePath:instancePath+"/destination",schemaPath:"#/definitions/absolutePath/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema39.type,parentSchema:schema39,data:data3};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
}
if(data.owner !== undefined){
let data4 = data.owner;
if(typeof data4 === "string"){
if(!pattern33.test(data4)){
const err7 = {instancePath:instancePath+"/owner",schemaPath:"#/definitions/unixName/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z_][A-Za-z0-9_.-]*$"},message:"must match pattern \""+"^[A-Za-z_][A-Za-z0-9_.-]*$"+"\"",schema:"^[A-Za-z_][A-Za-z0-9_.-]*$",parentSchema:schema58,data:data4};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
}
else {
const err8 = {instancePath:instancePath+"/owner",schemaPath:"#/definitions/unixName/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema58.type,parentSchema:schema58,data:data4};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
}
if(data.group !== undefined){
let data5 = data.group;
if(typeof data5 === "string"){
if(!pattern33.test(data5)){
const err9 = {instancePath:instancePath+"/group",schemaPath:"#/definitions/unixName/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z_][A-Za-z0-9_.-]*$"},message:"must match pattern \""+"^[A-Za-z_][A-Za-z0-9_.-]*$"+"\"",schema:"^[A-Za-z_][A-Za-z0-9_.-]*$",parentSchema:schema58,data:data5};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
}
else {
const err10 = {instancePath:instancePath+"/group",schemaPath:"#/definitions/unixName/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema58.type,parentSchema:schema58,data:data5};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
}
}
if(data.mode !== undefined){
let data6 = data.mode;
if(typeof data6 === "string"){
if(!pattern35.test(data6)){
const err11 = {instancePath:instancePath+"/mode",schemaPath:"#/properties/mode/pattern",keyword:"pattern",params:{pattern: "^0?[0-7]{3}$"},message:"must match pattern \""+"^0?[0-7]{3}$"+"\"",schema:"^0?[0-7]{3}$",parentSchema:schema55.properties.mode,data:data6};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
}
}
else {
const err12 = {instancePath:instancePath+"/mode",schemaPath:"#/properties/mode/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema55.properties.mode.type,parentSchema:schema55.properties.mode,data:data6};
if(vErrors === null){
vErrors = [err12];
}
else {
vErrors.push(err12);
}
errors++;
}
}
if(data.upload !== undefined){
let data7 = data.upload;
if(!((data7 === "before-activation") || (data7 === "after-activation"))){
const err13 = {instancePath:instancePath+"/upload",schemaPath:"#/properties/upload/enum",keyword:"enum",params:{allowedValues: schema55.properties.upload.enum},message:"must be equal to one of the allowed values",schema:schema55.properties.upload.enum,parentSchema:schema55.properties.upload,data:data7};
if(vErrors === null){
vErrors = [err13];
}
else {
vErrors.push(err13);
}
errors++;
}
}
if(data.allowEmpty !== undefined){
let data8 = data.allowEmpty;
if(typeof data8 !== "boolean"){
const err14 = {instancePath:instancePath+"/allowEmpty",schemaPath:"#/properties/allowEmpty/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema55.properties.allowEmpty.type,parentSchema:schema55.properties.allowEmpty,data:data8};
if(vErrors === null){
vErrors = [err14];
}
else {
vErrors.push(err14);
}
errors++;
}
}
}
else {
const err15 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema55.type,parentSchema:schema55,data};
if(vErrors === null){
vErrors = [err15];
}
else {
vErrors.push(err15);
}
errors++;
}
validate39.errors = vErrors;
return errors === 0;
}


function validate24(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
for(const key0 in data){
if(!(func2.call(schema22.properties, key0))){
const err0 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema22,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
if(data.target !== undefined){
let data0 = data.target;
if(typeof data0 === "string"){
if(!pattern7.test(data0)){
const err1 = {instancePath:instancePath+"/target",schemaPath:"#/definitions/endpoint/pattern",keyword:"pattern",params:{pattern: "^(local|([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))$"},message:"must match pattern \""+"^(local|([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))$"+"\"",schema:"^(local|([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))$",parentSchema:schema23,data:data0};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
else {
const err2 = {instancePath:instancePath+"/target",schemaPath:"#/definitions/endpoint/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema23.type,parentSchema:schema23,data:data0};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
if(data.user !== undefined){
let data1 = data.user;
if(typeof data1 === "string"){
if(!pattern8.test(data1)){
const err3 = {instancePath:instancePath+"/user",schemaPath:"#/definitions/safeWord/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$"},message:"must match pattern \""+"^[A-Za-z0-9][A-Za-z0-9._-]*$"+"\"",schema:"^[A-Za-z0-9][A-Za-z0-9._-]*$",parentSchema:schema24,data:data1};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
else {
const err4 = {instancePath:instancePath+"/user",schemaPath:"#/definitions/safeWord/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema24.type,parentSchema:schema24,data:data1};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
if(data.port !== undefined){
let data2 = data.port;
if(!(((typeof data2 == "number") && (!(data2 % 1) && !isNaN(data2))) && (isFinite(data2)))){
const err5 = {instancePath:instancePath+"/port",schemaPath:"#/properties/port/type",keyword:"type",params:{type: "integer"},message:"must be integer",schema:schema22.properties.port.type,parentSchema:schema22.properties.port,data:data2};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
if((typeof data2 == "number") && (isFinite(data2))){
if(data2 > 65535 || isNaN(data2)){
const err6 = {instancePath:instancePath+"/port",schemaPath:"#/properties/port/maximum",keyword:"maximum",params:{comparison: "<=", limit: 65535},message:"must be <= 65535",schema:65535,parentSchema:schema22.properties.port,data:data2};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
if(data2 < 1 || isNaN(data2)){
const err7 = {instancePath:instancePath+"/port",schemaPath:"#/properties/port/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1",schema:1,parentSchema:schema22.properties.port,data:data2};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
}
}
if(data.identityFile !== undefined){
let data3 = data.identityFile;
if(typeof data3 === "string"){
if(!pattern2.test(data3)){
const err8 = {instancePath:instancePath+"/identityFile",schemaPath:"#/definitions/path/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^\\u0000\\r\\n]+$"+"\"",schema:"^[^\\u0000\\r\\n]+$",parentSchema:schema14,data:data3};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
}
else {
const err9 = {instancePath:instancePath+"/identityFile",schemaPath:"#/definitions/path/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema14.type,parentSchema:schema14,data:data3};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
}
if(data.hostKey !== undefined){
let data4 = data.hostKey;
if((typeof data4 !== "string") && (!(Array.isArray(data4)))){
const err10 = {instancePath:instancePath+"/hostKey",schemaPath:"#/properties/hostKey/type",keyword:"type",params:{type: schema22.properties.hostKey.type},message:"must be string,array",schema:schema22.properties.hostKey.type,parentSchema:schema22.properties.hostKey,data:data4};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
}
if(typeof data4 === "string"){
if(!pattern10.test(data4)){
const err11 = {instancePath:instancePath+"/hostKey",schemaPath:"#/properties/hostKey/pattern",keyword:"pattern",params:{pattern: "^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$"},message:"must match pattern \""+"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$"+"\"",schema:"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$",parentSchema:schema22.properties.hostKey,data:data4};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
}
}
if(Array.isArray(data4)){
if(data4.length < 1){
const err12 = {instancePath:instancePath+"/hostKey",schemaPath:"#/properties/hostKey/minItems",keyword:"minItems",params:{limit: 1},message:"must NOT have fewer than 1 items",schema:1,parentSchema:schema22.properties.hostKey,data:data4};
if(vErrors === null){
vErrors = [err12];
}
else {
vErrors.push(err12);
}
errors++;
}
const len0 = data4.length;
for(let i0=0; i0<len0; i0++){
let data5 = data4[i0];
if(typeof data5 === "string"){
if(!pattern10.test(data5)){
const err13 = {instancePath:instancePath+"/hostKey/" + i0,schemaPath:"#/definitions/publicKey/pattern",keyword:"pattern",params:{pattern: "^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$"},message:"must match pattern \""+"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$"+"\"",schema:"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\u0000\\r\\n]*)?$",parentSchema:schema26,data:data5};
if(vErrors === null){
vErrors = [err13];
}
else {
vErrors.push(err13);
}
errors++;
}
}
else {
const err14 = {instancePath:instancePath+"/hostKey/" + i0,schemaPath:"#/definitions/publicKey/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema26.type,parentSchema:schema26,data:data5};
if(vErrors === null){
vErrors = [err14];
}
else {
vErrors.push(err14);
}
errors++;
}
}
}
}
if(data.jump !== undefined){
if(!(validate25(data.jump, {instancePath:instancePath+"/jump",parentData:data,parentDataProperty:"jump",rootData}))){
vErrors = appendErrors(vErrors, validate25.errors);
errors = vErrors.length;
}
}
if(data.trustOnFirstUse !== undefined){
let data7 = data.trustOnFirstUse;
if(typeof data7 !== "boolean"){
const err15 = {instancePath:instancePath+"/trustOnFirstUse",schemaPath:"#/properties/trustOnFirstUse/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema22.properties.trustOnFirstUse.type,parentSchema:schema22.properties.trustOnFirstUse,data:data7};
if(vErrors === null){
vErrors = [err15];
}
else {
vErrors.push(err15);
}
errors++;
}
}
if(data.mode !== undefined){
let data8 = data.mode;
if(!((((data8 === "switch") || (data8 === "boot")) || (data8 === "test")) || (data8 === "dry-activate"))){
const err16 = {instancePath:instancePath+"/mode",schemaPath:"#/properties/mode/enum",keyword:"enum",params:{allowedValues: schema22.properties.mode.enum},message:"must be equal to one of the allowed values",schema:schema22.properties.mode.enum,parentSchema:schema22.properties.mode,data:data8};
if(vErrors === null){
vErrors = [err16];
}
else {
vErrors.push(err16);
}
errors++;
}
}
if(data.specialisation !== undefined){
let data9 = data.specialisation;
if(typeof data9 === "string"){
if(!pattern8.test(data9)){
const err17 = {instancePath:instancePath+"/specialisation",schemaPath:"#/definitions/safeWord/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$"},message:"must match pattern \""+"^[A-Za-z0-9][A-Za-z0-9._-]*$"+"\"",schema:"^[A-Za-z0-9][A-Za-z0-9._-]*$",parentSchema:schema24,data:data9};
if(vErrors === null){
vErrors = [err17];
}
else {
vErrors.push(err17);
}
errors++;
}
}
else {
const err18 = {instancePath:instancePath+"/specialisation",schemaPath:"#/definitions/safeWord/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema24.type,parentSchema:schema24,data:data9};
if(vErrors === null){
vErrors = [err18];
}
else {
vErrors.push(err18);
}
errors++;
}
}
if(data.buildHost !== undefined){
let data10 = data.buildHost;
if(typeof data10 === "string"){
if(!pattern7.test(data10)){
const err19 = {instancePath:instancePath+"/buildHost",schemaPath:"#/definitions/endpoint/pattern",keyword:"pattern",params:{pattern: "^(local|([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))$"},message:"must match pattern \""+"^(local|([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))$"+"\"",schema:"^(local|([A-Za-z0-9][A-Za-z0-9._-]*@)?([A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\\](:[0-9]+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))$",parentSchema:schema23,data:data10};
if(vErrors === null){
vErrors = [err19];
}
else {
vErrors.push(err19);
}
errors++;
}
}
else {
const err20 = {instancePath:instancePath+"/buildHost",schemaPath:"#/definitions/endpoint/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema23.type,parentSchema:schema23,data:data10};
if(vErrors === null){
vErrors = [err20];
}
else {
vErrors.push(err20);
}
errors++;
}
}
if(data.substitutes !== undefined){
let data11 = data.substitutes;
if(typeof data11 !== "boolean"){
const err21 = {instancePath:instancePath+"/substitutes",schemaPath:"#/properties/substitutes/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema22.properties.substitutes.type,parentSchema:schema22.properties.substitutes,data:data11};
if(vErrors === null){
vErrors = [err21];
}
else {
vErrors.push(err21);
}
errors++;
}
}
if(data.tags !== undefined){
let data12 = data.tags;
if(Array.isArray(data12)){
const len1 = data12.length;
for(let i1=0; i1<len1; i1++){
let data13 = data12[i1];
if(typeof data13 === "string"){
if(!pattern8.test(data13)){
const err22 = {instancePath:instancePath+"/tags/" + i1,schemaPath:"#/definitions/safeWord/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$"},message:"must match pattern \""+"^[A-Za-z0-9][A-Za-z0-9._-]*$"+"\"",schema:"^[A-Za-z0-9][A-Za-z0-9._-]*$",parentSchema:schema24,data:data13};
if(vErrors === null){
vErrors = [err22];
}
else {
vErrors.push(err22);
}
errors++;
}
}
else {
const err23 = {instancePath:instancePath+"/tags/" + i1,schemaPath:"#/definitions/safeWord/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema24.type,parentSchema:schema24,data:data13};
if(vErrors === null){
vErrors = [err23];
}
else {
vErrors.push(err23);
}
errors++;
}
}
let i2 = data12.length;
let j0;
if(i2 > 1){
outer0:
for(;i2--;){
for(j0 = i2; j0--;){
if(func0(data12[i2], data12[j0])){
const err24 = {instancePath:instancePath+"/tags",schemaPath:"#/properties/tags/uniqueItems",keyword:"uniqueItems",params:{i: i2, j: j0},message:"must NOT have duplicate items (items ## "+j0+" and "+i2+" are identical)",schema:true,parentSchema:schema22.properties.tags,data:data12};
if(vErrors === null){
vErrors = [err24];
}
else {
vErrors.push(err24);
}
errors++;
break outer0;
}
}
}
}
}
else {
const err25 = {instancePath:instancePath+"/tags",schemaPath:"#/properties/tags/type",keyword:"type",params:{type: "array"},message:"must be array",schema:schema22.properties.tags.type,parentSchema:schema22.properties.tags,data:data12};
if(vErrors === null){
vErrors = [err25];
}
else {
vErrors.push(err25);
}
errors++;
}
}
if(data.keys !== undefined){
if(!(validate27(data.keys, {instancePath:instancePath+"/keys",parentData:data,parentDataProperty:"keys",rootData}))){
vErrors = appendErrors(vErrors, validate27.errors);
errors = vErrors.length;
}
}
if(data.bootstrap !== undefined){
if(!(validate29(data.bootstrap, {instancePath:instancePath+"/bootstrap",parentData:data,parentDataProperty:"bootstrap",rootData}))){
vErrors = appendErrors(vErrors, validate29.errors);
errors = vErrors.length;
}
}
if(data.rollback !== undefined){
if(!(validate35(data.rollback, {instancePath:instancePath+"/rollback",parentData:data,parentDataProperty:"rollback",rootData}))){
vErrors = appendErrors(vErrors, validate35.errors);
errors = vErrors.length;
}
}
if(data.healthChecks !== undefined){
let data17 = data.healthChecks;
if(Array.isArray(data17)){
const len2 = data17.length;
for(let i3=0; i3<len2; i3++){
if(!(validate37(data17[i3], {instancePath:instancePath+"/healthChecks/" + i3,parentData:data17,parentDataProperty:i3,rootData}))){
vErrors = appendErrors(vErrors, validate37.errors);
errors = vErrors.length;
}
}
}
else {
const err26 = {instancePath:instancePath+"/healthChecks",schemaPath:"#/properties/healthChecks/type",keyword:"type",params:{type: "array"},message:"must be array",schema:schema22.properties.healthChecks.type,parentSchema:schema22.properties.healthChecks,data:data17};
if(vErrors === null){
vErrors = [err26];
}
else {
vErrors.push(err26);
}
errors++;
}
}
if(data.secrets !== undefined){
let data19 = data.secrets;
if(data19 && typeof data19 == "object" && !Array.isArray(data19)){
for(const key1 in data19){
const _errs43 = errors;
if(typeof key1 === "string"){
if(!pattern8.test(key1)){
const err27 = {instancePath:instancePath+"/secrets",schemaPath:"#/definitions/safeWord/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$"},message:"must match pattern \""+"^[A-Za-z0-9][A-Za-z0-9._-]*$"+"\"",schema:"^[A-Za-z0-9][A-Za-z0-9._-]*$",parentSchema:schema24,data:key1,propertyName:key1};
if(vErrors === null){
vErrors = [err27];
}
else {
vErrors.push(err27);
}
errors++;
}
}
else {
const err28 = {instancePath:instancePath+"/secrets",schemaPath:"#/definitions/safeWord/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema24.type,parentSchema:schema24,data:key1,propertyName:key1};
if(vErrors === null){
vErrors = [err28];
}
else {
vErrors.push(err28);
}
errors++;
}
var valid15 = _errs43 === errors;
if(!valid15){
const err29 = {instancePath:instancePath+"/secrets",schemaPath:"#/properties/secrets/propertyNames",keyword:"propertyNames",params:{propertyName: key1},message:"property name must be valid",schema:schema22.properties.secrets.propertyNames,parentSchema:schema22.properties.secrets,data:data19};
if(vErrors === null){
vErrors = [err29];
}
else {
vErrors.push(err29);
}
errors++;
}
}
for(const key2 in data19){
if(!(validate39(data19[key2], {instancePath:instancePath+"/secrets/" + key2.replace(/~/g, "~0").replace(/\//g, "~1"),parentData:data19,parentDataProperty:key2,rootData}))){
vErrors = appendErrors(vErrors, validate39.errors);
errors = vErrors.length;
}
}
}
else {
const err30 = {instancePath:instancePath+"/secrets",schemaPath:"#/properties/secrets/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema22.properties.secrets.type,parentSchema:schema22.properties.secrets,data:data19};
if(vErrors === null){
vErrors = [err30];
}
else {
vErrors.push(err30);
}
errors++;
}
}
if(data.tolerateUnitFailures !== undefined){
let data21 = data.tolerateUnitFailures;
if(typeof data21 !== "boolean"){
const err31 = {instancePath:instancePath+"/tolerateUnitFailures",schemaPath:"#/properties/tolerateUnitFailures/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema22.properties.tolerateUnitFailures.type,parentSchema:schema22.properties.tolerateUnitFailures,data:data21};
if(vErrors === null){
vErrors = [err31];
}
else {
vErrors.push(err31);
}
errors++;
}
}
if(data.privilegeEscalation !== undefined){
let data22 = data.privilegeEscalation;
if((typeof data22 !== "string") && (!(Array.isArray(data22)))){
const err32 = {instancePath:instancePath+"/privilegeEscalation",schemaPath:"#/properties/privilegeEscalation/type",keyword:"type",params:{type: schema22.properties.privilegeEscalation.type},message:"must be string,array",schema:schema22.properties.privilegeEscalation.type,parentSchema:schema22.properties.privilegeEscalation,data:data22};
if(vErrors === null){
vErrors = [err32];
}
else {
vErrors.push(err32);
}
errors++;
}
if(typeof data22 === "string"){
if(!pattern36.test(data22)){
const err33 = {instancePath:instancePath+"/privilegeEscalation",schemaPath:"#/properties/privilegeEscalation/pattern",keyword:"pattern",params:{pattern: "^(sudo|doas|run0)$"},message:"must match pattern \""+"^(sudo|doas|run0)$"+"\"",schema:"^(sudo|doas|run0)$",parentSchema:schema22.properties.privilegeEscalation,data:data22};
if(vErrors === null){
vErrors = [err33];
}
else {
vErrors.push(err33);
}
errors++;
}
}
if(Array.isArray(data22)){
if(data22.length < 1){
const err34 = {instancePath:instancePath+"/privilegeEscalation",schemaPath:"#/properties/privilegeEscalation/minItems",keyword:"minItems",params:{limit: 1},message:"must NOT have fewer than 1 items",schema:1,parentSchema:schema22.properties.privilegeEscalation,data:data22};
if(vErrors === null){
vErrors = [err34];
}
else {
vErrors.push(err34);
}
errors++;
}
const len3 = data22.length;
for(let i4=0; i4<len3; i4++){
let data23 = data22[i4];
if(typeof data23 === "string"){
if(func3(data23) < 1){
const err35 = {instancePath:instancePath+"/privilegeEscalation/" + i4,schemaPath:"#/definitions/nonEmptyString/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters",schema:1,parentSchema:schema19,data:data23};
if(vErrors === null){
vErrors = [err35];
}
else {
vErrors.push(err35);
}
errors++;
}
}
else {
const err36 = {instancePath:instancePath+"/privilegeEscalation/" + i4,schemaPath:"#/definitions/nonEmptyString/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema19.type,parentSchema:schema19,data:data23};
if(vErrors === null){
vErrors = [err36];
}
else {
vErrors.push(err36);
}
errors++;
}
}
}
}
if(data.askSudoPassword !== undefined){
let data24 = data.askSudoPassword;
if(typeof data24 !== "boolean"){
const err37 = {instancePath:instancePath+"/askSudoPassword",schemaPath:"#/properties/askSudoPassword/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema22.properties.askSudoPassword.type,parentSchema:schema22.properties.askSudoPassword,data:data24};
if(vErrors === null){
vErrors = [err37];
}
else {
vErrors.push(err37);
}
errors++;
}
}
}
else {
const err38 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema22.type,parentSchema:schema22,data};
if(vErrors === null){
vErrors = [err38];
}
else {
vErrors.push(err38);
}
errors++;
}
validate24.errors = vErrors;
return errors === 0;
}


function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
if(data.version === undefined){
const err0 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "version"},message:"must have required property '"+"version"+"'",schema:schema11.required,parentSchema:schema11,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
for(const key0 in data){
if(!(func2.call(schema11.properties, key0))){
const err1 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema11,data};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
if(data.version !== undefined){
let data0 = data.version;
if(1 !== data0){
const err2 = {instancePath:instancePath+"/version",schemaPath:"#/properties/version/const",keyword:"const",params:{allowedValue: 1},message:"must be equal to constant",schema:1,parentSchema:schema11.properties.version,data:data0};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
if(data.flake !== undefined){
let data1 = data.flake;
if(typeof data1 === "string"){
if(!pattern0.test(data1)){
const err3 = {instancePath:instancePath+"/flake",schemaPath:"#/definitions/flakeRef/pattern",keyword:"pattern",params:{pattern: "^[^#\\u0000\\r\\n]+$"},message:"must match pattern \""+"^[^#\\u0000\\r\\n]+$"+"\"",schema:"^[^#\\u0000\\r\\n]+$",parentSchema:schema12,data:data1};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
else {
const err4 = {instancePath:instancePath+"/flake",schemaPath:"#/definitions/flakeRef/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema12.type,parentSchema:schema12,data:data1};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
if(data.parallel !== undefined){
let data2 = data.parallel;
if(!(((typeof data2 == "number") && (!(data2 % 1) && !isNaN(data2))) && (isFinite(data2)))){
const err5 = {instancePath:instancePath+"/parallel",schemaPath:"#/properties/parallel/type",keyword:"type",params:{type: "integer"},message:"must be integer",schema:schema11.properties.parallel.type,parentSchema:schema11.properties.parallel,data:data2};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
if((typeof data2 == "number") && (isFinite(data2))){
if(data2 < 0 || isNaN(data2)){
const err6 = {instancePath:instancePath+"/parallel",schemaPath:"#/properties/parallel/minimum",keyword:"minimum",params:{comparison: ">=", limit: 0},message:"must be >= 0",schema:0,parentSchema:schema11.properties.parallel,data:data2};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
}
}
if(data.evalLimit !== undefined){
let data3 = data.evalLimit;
if(!(((typeof data3 == "number") && (!(data3 % 1) && !isNaN(data3))) && (isFinite(data3)))){
const err7 = {instancePath:instancePath+"/evalLimit",schemaPath:"#/properties/evalLimit/type",keyword:"type",params:{type: "integer"},message:"must be integer",schema:schema11.properties.evalLimit.type,parentSchema:schema11.properties.evalLimit,data:data3};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
if((typeof data3 == "number") && (isFinite(data3))){
if(data3 < 1 || isNaN(data3)){
const err8 = {instancePath:instancePath+"/evalLimit",schemaPath:"#/properties/evalLimit/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1",schema:1,parentSchema:schema11.properties.evalLimit,data:data3};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
}
}
if(data.evalJobs !== undefined){
let data4 = data.evalJobs;
if(!(((typeof data4 == "number") && (!(data4 % 1) && !isNaN(data4))) && (isFinite(data4)))){
const err9 = {instancePath:instancePath+"/evalJobs",schemaPath:"#/properties/evalJobs/type",keyword:"type",params:{type: "integer"},message:"must be integer",schema:schema11.properties.evalJobs.type,parentSchema:schema11.properties.evalJobs,data:data4};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
if((typeof data4 == "number") && (isFinite(data4))){
if(data4 < 1 || isNaN(data4)){
const err10 = {instancePath:instancePath+"/evalJobs",schemaPath:"#/properties/evalJobs/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1",schema:1,parentSchema:schema11.properties.evalJobs,data:data4};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
}
}
}
if(data.rebuildFlavour !== undefined){
let data5 = data.rebuildFlavour;
if(!(((data5 === "auto") || (data5 === "ng")) || (data5 === "bash"))){
const err11 = {instancePath:instancePath+"/rebuildFlavour",schemaPath:"#/properties/rebuildFlavour/enum",keyword:"enum",params:{allowedValues: schema11.properties.rebuildFlavour.enum},message:"must be equal to one of the allowed values",schema:schema11.properties.rebuildFlavour.enum,parentSchema:schema11.properties.rebuildFlavour,data:data5};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
}
}
if(data.copyTimeout !== undefined){
let data6 = data.copyTimeout;
if(!(((typeof data6 == "number") && (!(data6 % 1) && !isNaN(data6))) && (isFinite(data6)))){
const err12 = {instancePath:instancePath+"/copyTimeout",schemaPath:"#/properties/copyTimeout/type",keyword:"type",params:{type: "integer"},message:"must be integer",schema:schema11.properties.copyTimeout.type,parentSchema:schema11.properties.copyTimeout,data:data6};
if(vErrors === null){
vErrors = [err12];
}
else {
vErrors.push(err12);
}
errors++;
}
if((typeof data6 == "number") && (isFinite(data6))){
if(data6 < 1 || isNaN(data6)){
const err13 = {instancePath:instancePath+"/copyTimeout",schemaPath:"#/properties/copyTimeout/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1",schema:1,parentSchema:schema11.properties.copyTimeout,data:data6};
if(vErrors === null){
vErrors = [err13];
}
else {
vErrors.push(err13);
}
errors++;
}
}
}
if(data.activationTimeout !== undefined){
let data7 = data.activationTimeout;
if(!(((typeof data7 == "number") && (!(data7 % 1) && !isNaN(data7))) && (isFinite(data7)))){
const err14 = {instancePath:instancePath+"/activationTimeout",schemaPath:"#/properties/activationTimeout/type",keyword:"type",params:{type: "integer"},message:"must be integer",schema:schema11.properties.activationTimeout.type,parentSchema:schema11.properties.activationTimeout,data:data7};
if(vErrors === null){
vErrors = [err14];
}
else {
vErrors.push(err14);
}
errors++;
}
if((typeof data7 == "number") && (isFinite(data7))){
if(data7 < 1 || isNaN(data7)){
const err15 = {instancePath:instancePath+"/activationTimeout",schemaPath:"#/properties/activationTimeout/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1",schema:1,parentSchema:schema11.properties.activationTimeout,data:data7};
if(vErrors === null){
vErrors = [err15];
}
else {
vErrors.push(err15);
}
errors++;
}
}
}
if(data.cache !== undefined){
if(!(validate11(data.cache, {instancePath:instancePath+"/cache",parentData:data,parentDataProperty:"cache",rootData}))){
vErrors = appendErrors(vErrors, validate11.errors);
errors = vErrors.length;
}
}
if(data.rollout !== undefined){
if(!(validate13(data.rollout, {instancePath:instancePath+"/rollout",parentData:data,parentDataProperty:"rollout",rootData}))){
vErrors = appendErrors(vErrors, validate13.errors);
errors = vErrors.length;
}
}
if(data.commands !== undefined){
if(!(validate15(data.commands, {instancePath:instancePath+"/commands",parentData:data,parentDataProperty:"commands",rootData}))){
vErrors = appendErrors(vErrors, validate15.errors);
errors = vErrors.length;
}
}
if(data.ssh !== undefined){
if(!(validate22(data.ssh, {instancePath:instancePath+"/ssh",parentData:data,parentDataProperty:"ssh",rootData}))){
vErrors = appendErrors(vErrors, validate22.errors);
errors = vErrors.length;
}
}
if(data.defaults !== undefined){
if(!(validate24(data.defaults, {instancePath:instancePath+"/defaults",parentData:data,parentDataProperty:"defaults",rootData}))){
vErrors = appendErrors(vErrors, validate24.errors);
errors = vErrors.length;
}
}
if(data.hosts !== undefined){
let data13 = data.hosts;
if(data13 && typeof data13 == "object" && !Array.isArray(data13)){
for(const key1 in data13){
const _errs24 = errors;
if(typeof key1 === "string"){
if(!pattern8.test(key1)){
const err16 = {instancePath:instancePath+"/hosts",schemaPath:"#/definitions/safeWord/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$"},message:"must match pattern \""+"^[A-Za-z0-9][A-Za-z0-9._-]*$"+"\"",schema:"^[A-Za-z0-9][A-Za-z0-9._-]*$",parentSchema:schema24,data:key1,propertyName:key1};
if(vErrors === null){
vErrors = [err16];
}
else {
vErrors.push(err16);
}
errors++;
}
}
else {
const err17 = {instancePath:instancePath+"/hosts",schemaPath:"#/definitions/safeWord/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema24.type,parentSchema:schema24,data:key1,propertyName:key1};
if(vErrors === null){
vErrors = [err17];
}
else {
vErrors.push(err17);
}
errors++;
}
var valid2 = _errs24 === errors;
if(!valid2){
const err18 = {instancePath:instancePath+"/hosts",schemaPath:"#/properties/hosts/propertyNames",keyword:"propertyNames",params:{propertyName: key1},message:"property name must be valid",schema:schema11.properties.hosts.propertyNames,parentSchema:schema11.properties.hosts,data:data13};
if(vErrors === null){
vErrors = [err18];
}
else {
vErrors.push(err18);
}
errors++;
}
}
for(const key2 in data13){
if(!(validate24(data13[key2], {instancePath:instancePath+"/hosts/" + key2.replace(/~/g, "~0").replace(/\//g, "~1"),parentData:data13,parentDataProperty:key2,rootData}))){
vErrors = appendErrors(vErrors, validate24.errors);
errors = vErrors.length;
}
}
}
else {
const err19 = {instancePath:instancePath+"/hosts",schemaPath:"#/properties/hosts/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema11.properties.hosts.type,parentSchema:schema11.properties.hosts,data:data13};
if(vErrors === null){
vErrors = [err19];
}
else {
vErrors.push(err19);
}
errors++;
}
}
}
else {
const err20 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema11.type,parentSchema:schema11,data};
if(vErrors === null){
vErrors = [err20];
}
else {
vErrors.push(err20);
}
errors++;
}
validate10.errors = vErrors;
return errors === 0;
}
