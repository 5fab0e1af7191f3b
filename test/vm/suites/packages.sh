# Our Debian packages as an admin installs them, on a fresh Debian 12 (run by
# test/vm/packages.test.ts: CHOS_VM_IMAGE=clean test/vm/run test/vm/suites/packages.sh). The
# share has deb/ (dist/deb/*.deb) and apt/, the local repository of their Debian dependencies
# (the image's only apt source). Each check prints "CHOS-CHECK <name> ok|fail".
#
# The admin's path: apt install, pam-auth-update --enable chos, the site's catalogue and policy
# (the example site, built by Debian's nodejs), chos setup with the DKMS module, ssh logins over
# loopback through Debian's own /etc/pam.d/sshd; then apt purge, after which /etc and the PAM
# stack must be as they were before the install.
. /mnt/chos/lib/vm.sh
set -u
export DEBIAN_FRONTEND=noninteractive
packages=(libpam-chos chos chos-policy chos-dkms)
before=/run/before

# The site's environment before any package: users in their groups (the example policy gives
# physics trixie, chemistry tiny) and two trees under /os. The trees, like any tree of a real
# site, carry what the modules after pam_chos read there: sshd's stack runs pam_limits and
# pam_env after common-session, so inside the tree (README, "Installing on a cluster"), and
# with no /etc/security/limits.conf in the tree pam_limits (required) fails every ssh login.
prepare() {
  mount --make-rshared /
  groupadd physics && groupadd chemistry && usermod -g physics alice && usermod -g chemistry bob &&
  chos_vm_os_tree trixie && chos_vm_os_tree tiny || return 1
  local t
  for t in trixie tiny; do cp -a /etc/security /etc/environment /etc/default "/os/$t/etc/" || return 1; done
}
prepare || { echo "prepare failed"; exit 1; }

# What purge must give back: /etc (contents, and each entry's type, mode, owner and link target)
# and the PAM stack's other half, pam-auth-update's state in /var/lib/pam and the modules.
# The installed packages too, with their states: purge must leave none half-removed.
snapshot() {
  mkdir -p "$1" && cp -a /etc /var/lib/pam "$1/" &&
  find /etc /var/lib/pam /usr/share/pam-configs /lib/x86_64-linux-gnu/security \
    -printf '%p %y %m %u:%g %l\n' | sort >"$1/listing" &&
  dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' | grep -v '^un' >"$1/packages"
}
apt-get -q update >/dev/null && snapshot "$before" || { echo "snapshot failed"; exit 1; }

# Seconds since $1 (microseconds, as ${EPOCHREALTIME/./}), to a tenth; no subshell, so stamping
# each line of apt's costs no fork.
since() {
  local us=$((${EPOCHREALTIME/./} - $1))
  printf -v elapsed '%d.%d' $((us / 1000000)) $((us / 100000 % 10))
}

# Our four packages from the files, every dependency from Debian's archive; no recommends, as
# a minimal server installs (sudo, which dkms recommends, stays out).
install_packages() {
  local t0=${EPOCHREALTIME/./} line elapsed
  # Each line stamped with the seconds since the start: where apt spends its time.
  apt-get -q -y --no-install-recommends install ./deb/*.deb 2>&1 |
    while IFS= read -r line; do since "$t0"; printf '%6s %s\n' "$elapsed" "$line"; done
  ((PIPESTATUS[0] == 0)) || return 1
  since "$t0"
  echo "apt install: $elapsed s"
  local p
  for p in "${packages[@]}" nodejs dkms; do
    [[ $(dpkg-query -W -f='${Status}' "$p") == "install ok installed" ]] || { echo "$p not installed"; return 1; }
  done
  [[ $(dpkg-query -W -f='${Status}' sudo 2>/dev/null) != "install ok installed" ]]
}
chos_vm_check apt-install-from-debian install_packages

# libpam-chos registers its profile but leaves it off: nothing in /etc/pam.d names pam_chos.
chos_vm_check pam-chos-off-until-enabled bash -c '! grep -r pam_chos /etc/pam.d'

# pam-auth-update --enable chos: pam_chos is the last session line of common-session (compared
# field by field: pam-auth-update pads with spaces), and absent from the non-interactive one.
enable_pam() {
  pam-auth-update --enable chos || return 1
  cat /etc/pam.d/common-session
  awk '$1 == "session" { last = $2 " " $3 " " NF } END { exit last != "requisite pam_chos.so 3" }' \
    /etc/pam.d/common-session &&
  ! grep -q pam_chos /etc/pam.d/common-session-noninteractive
}
chos_vm_check pam-auth-update-puts-pam-chos-last enable_pam

# chos-dkms's postinst built and installed the module for the kernel this VM runs.
dkms_built() {
  local out
  out=$(dkms status chos) && echo "$out" || return 1
  [[ $out == "chos/"*", $(uname -r), x86_64: installed" ]] &&
  [[ $(modinfo -n chos) == "/lib/modules/$(uname -r)/updates/dkms/chos.ko" ]]
}
chos_vm_check dkms-built-for-running-kernel dkms_built

# A kernel installed after chos-dkms (its headers: build-clean-repo picked a second version):
# dkms's header_postinst.d hook builds and installs the module for it too.
second=$(cat /mnt/chos/apt/second-kernel-headers)
dkms_builds_for_new_kernel() {
  local kver=${second#linux-headers-} out
  apt-get -q -y --no-install-recommends install "$second" >/dev/null || return 1
  out=$(dkms status chos) && echo "$out" || return 1
  [[ $out == *"chos/"*", $kver, x86_64: installed"* ]] &&
  [[ -f /lib/modules/$kver/updates/dkms/chos.ko ]]
}
chos_vm_check dkms-builds-for-new-kernel dkms_builds_for_new_kernel

# Debian's nodejs (18) runs the packaged CLI: build the example site into /etc/chos.d, and its
# test cases pass on both engines.
policy_cli() {
  local ex=/usr/share/doc/chos/examples
  node --version && mkdir -p /etc/chos.d &&
  chos-policy build "$ex" -o /etc/chos.d/policy.js && chos-policy test "$ex"
}
chos_vm_check chos-policy-builds-and-tests-example policy_cli

# The catalogue and sysconfig at their default paths, then `chos setup` with the kmod backend:
# modprobe loads the DKMS module, and --check finds nothing to fix.
setup_kmod() {
  printf '%%SHELLS\ntrixie:/os/trixie\ntiny:/os/tiny\ndefault:/os/trixie\n' >/etc/chos &&
  mkdir -p /etc/sysconfig && echo 'BINDMOUNT=/os' >/etc/sysconfig/chos &&
  chos setup --backend kmod && chos setup --check --backend kmod &&
  lsmod | grep -q '^chos ' && [[ $(findmnt -n -o FSTYPE /proc/chos) == chosfs ]]
}
chos_vm_check chos-setup-loads-dkms-module setup_kmod

# Debian's sshd with its own PAM service (/etc/pam.d/sshd includes common-session), on
# loopback; keys and options outside /etc, so the install alone changes /etc. The VM runs no
# syslog daemon: logsink keeps what PAM logs, shown when a login goes wrong.
keys=/run/chos-keys
start_sshd() {
  chos_vm_syslog /run/chos-syslog || return 1
  mkdir -p "$keys" && ssh-keygen -q -t ed25519 -N '' -f "$keys/client" &&
  cp "$keys/client.pub" "$keys/alice" && cp "$keys/client.pub" "$keys/bob" &&
  /usr/sbin/sshd -o ListenAddress=127.0.0.1 -o "AuthorizedKeysFile=$keys/%u" || return 1
  for _ in $(seq 50); do ss -ltn | grep -q '127.0.0.1:22 ' && return 0; sleep 0.2; done
  return 1
}
as_ssh() {
  ssh -F /dev/null -i "$keys/client" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o LogLevel=ERROR "$1@127.0.0.1" "$2"
}
lands_in_policy_tree() {
  local a b
  start_sshd || { echo "sshd did not start"; return 1; }
  a=$(as_ssh alice '. /etc/os-release; echo "$ID $(readlink /proc/chos/link)"')
  b=$(as_ssh bob '. /etc/os-release; echo "$ID $(readlink /proc/chos/link)"')
  echo "alice: $a"; echo "bob: $b"
  [[ $a == "chos-vm-trixie /os/trixie" && $b == "chos-vm-tiny /os/tiny" ]] || { cat /run/chos-syslog; return 1; }
}
chos_vm_check ssh-lands-in-policy-tree lands_in_policy_tree

# The admin takes the site's files away, then purges the four packages (and the second kernel's
# headers); --autoremove takes the
# dependencies apt brought (nodejs, dkms...) with them (the next check compares the list
# of installed packages).
purge_packages() {
  kill "$(cat /run/sshd.pid)"
  local mount
  for _ in $(seq 20); do
    mount=$(findmnt -rn -t chosfs -o TARGET | tail -n1)
    [[ -z $mount ]] && break
    umount "$mount" || return 1
  done
  rmmod chos && rm -r /etc/chos /etc/chos.d /etc/sysconfig &&
  apt-get -q -y purge --autoremove "${packages[@]}" "$second" || return 1
  # Debian's apt keeps what an installed package suggests (APT::AutoRemove::SuggestsImportant):
  # apt suggests dpkg-dev, tar bzip2 and xz-utils, perl-base perl, so those and what they need
  # stay. They must be all that stays, and they go once autoremove stops counting suggestions.
  local left kept no_suggests=(-o APT::AutoRemove::SuggestsImportant=false)
  left=$(comm -13 <(awk '{print $2}' "$before/packages" | sort) \
    <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 != "un" {print $2}' | sort))
  kept=$(apt-get -s "${no_suggests[@]}" autoremove | awk '$1 == "Remv" {print $2}' | sort)
  echo "kept by suggestions:" $left
  [[ $left == "$kept" ]] || { echo "but autoremove would remove:" $kept; return 1; }
  apt-get -q -y "${no_suggests[@]}" autoremove --purge
}
chos_vm_check apt-purge-autoremove purge_packages

# The installed packages, /etc and the PAM stack as before the install, byte for byte and entry
# for entry.
etc_as_before() {
  local now=/run/after
  snapshot "$now" || return 1
  diff "$before/packages" "$now/packages" && diff "$before/listing" "$now/listing" &&
  diff -r --no-dereference "$before/etc" "$now/etc" && diff -r --no-dereference "$before/pam" "$now/pam"
}
chos_vm_check purge-leaves-system-as-before etc_as_before

problems=$(chos_vm_dmesg_problems)
echo "dmesg problems: $(grep -c . <<<"$problems")"
[[ -z $problems ]] || echo "$problems"
exit 0
