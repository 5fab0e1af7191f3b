# Logins over ssh with the kmod backend, in Debian 12's kernel with chos.ko (run by
# test/vm/ssh.test.ts: test/vm/run test/vm/suites/ssh.sh POLICYDIR, the example policy built on
# the host). Each check prints "CHOS-CHECK <name> ok|fail".
#
# sshd runs inside the VM on loopback with pam_chos backend=kmod. Two trees, /os/trixie and
# /os/tiny, are the VM's own /usr with their own os-release, under /os, which BINDMOUNT binds
# into /chos (the link's target must resolve inside the session's root). The example policy:
# alice (physics) gets trixie and may ask for tiny; bob (chemistry) gets tiny only.
. /mnt/chos/lib/vm.sh
set -u
conf=/os/conf
opts=(--catalogue "$conf/chos" --policy "$conf/policy.js" --root /chos)

prepare() {
  # Shared mounts, as on every systemd host (the VM's start private).
  mount --make-rshared /
  chos_vm_os_tree trixie && chos_vm_os_tree tiny || return 1
  chos_vm_site_conf "$conf" || return 1
  mkdir -p "$conf/keys"
  groupadd physics && groupadd chemistry && usermod -g physics alice && usermod -g chemistry bob
}
prepare || { echo "prepare failed"; exit 1; }

# The module is installed (vm-init put it where modprobe looks) but not loaded: setup loads it
# and mounts chosfs; then --check finds nothing to fix.
setup_passes() {
  ! lsmod | grep -q '^chos ' || { echo "chos was loaded before setup"; return 1; }
  chos setup --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig" &&
  lsmod | grep -q '^chos ' && [[ $(findmnt -n -o FSTYPE /proc/chos) == chosfs ]] &&
  chos setup --check --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig"
}
chos_vm_check setup-loads-module-check-passes setup_passes

start_sshd() {
  ssh-keygen -q -t ed25519 -N '' -f "$conf/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$conf/client_key" &&
  cp "$conf/client_key.pub" "$conf/keys/alice" && cp "$conf/client_key.pub" "$conf/keys/bob" || return 1
  cat >"$conf/sshd_config" <<EOT
Port 2222
ListenAddress 127.0.0.1
HostKey $conf/host_key
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $conf/keys/%u
StrictModes no
PidFile /run/chos-sshd.pid
EOT
  # sshd names its PAM service after its program name.
  cat >/etc/pam.d/chos-sshd <<EOT
auth required pam_permit.so
account include common-account
session include common-session
session requisite pam_chos.so catalogue=$conf/chos policy=$conf/policy.js root=/chos backend=kmod
EOT
  ln -sf /usr/sbin/sshd /usr/local/sbin/chos-sshd
  /usr/local/sbin/chos-sshd -f "$conf/sshd_config" || return 1
  for _ in $(seq 50); do ss -ltn | grep -q '127.0.0.1:2222' && return 0; sleep 0.2; done
  return 1
}
start_sshd || { echo "sshd did not start"; exit 1; }

# ssh USER COMMAND: a non-interactive login on loopback.
as_ssh() {
  ssh -F /dev/null -i "$conf/client_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o LogLevel=ERROR -p 2222 "$1@127.0.0.1" "$2"
}
id_of() { sed -n 's/^ID=//p'; }

lands_in_policy_tree() {
  local a b
  a=$(as_ssh alice 'cat /etc/os-release; readlink /proc/chos/link; readlink /usr') || return 1
  b=$(as_ssh bob 'cat /etc/os-release; readlink /proc/chos/link') || return 1
  echo "$a"; echo "$b"
  [[ $(id_of <<<"$a") == chos-vm-trixie && $a == *$'\n/os/trixie\n.chosfs/link/usr' ]] &&
  [[ $(id_of <<<"$b") == chos-vm-tiny && $b == *$'\n/os/tiny' ]]
}
chos_vm_check ssh-lands-in-policy-tree lands_in_policy_tree

# Two sessions at once: alice's stays in trixie while bob logs in to tiny.
concurrent_sessions() {
  local out
  as_ssh alice 'sleep 3; . /etc/os-release; echo "alice $ID"' >/tmp/alice.out &
  out=$(as_ssh bob '. /etc/os-release; echo "bob $ID"')
  wait $! || return 1
  echo "$out"; cat /tmp/alice.out
  [[ $out == "bob chos-vm-tiny" && $(cat /tmp/alice.out) == "alice chos-vm-trixie" ]]
}
chos_vm_check ssh-concurrent-sessions concurrent_sessions

# Inside a session, `chos` switches with one setchos write and os-release follows; the
# session's shell stays where it was.
switch_mid_session() {
  local out
  out=$(as_ssh alice ". /etc/os-release; echo \$ID
    chos run ${opts[*]} tiny -- sh -c '. /etc/os-release; echo \$ID; readlink /proc/chos/link'
    . /etc/os-release; echo \$ID") || return 1
  echo "$out"
  [[ $out == $'chos-vm-trixie\nchos-vm-tiny\n/os/tiny\nchos-vm-trixie' ]]
}
chos_vm_check ssh-chos-switches-mid-session switch_mid_session

refused_mid_session() {
  local out
  out=$(as_ssh bob "chos run ${opts[*]} trixie -- true; echo status \$?; . /etc/os-release; echo \$ID" 2>&1)
  echo "$out"
  [[ $out == *"status 1"* || $out == *"status 2"* ]] && [[ $out == *$'\nchos-vm-tiny' ]] &&
  [[ $out == *"refused"* ]]
}
chos_vm_check ssh-switch-refused-by-policy refused_mid_session

# tiny as an OS image of each kind (built on the host, /mnt/chos/chos-vm-image/tiny.SUFFIX):
# chos setup mounts it at /chos/.chos-images/tiny, binds it at the same path inside /chos (where
# the link resolves) and lists that path in valid; bob's login then lands in the image's busybox
# tree. The second kind replaces the first: setup mounts the new file over the old.
lands_in_image() {  # SUFFIX FSTYPE
  local suffix=$1 fstype=$2 out sum
  mkdir -p /os/images && install -m 0644 "/mnt/chos/chos-vm-image/tiny$suffix" /os/images/ || return 1
  sum=$(sha256sum "/os/images/tiny$suffix" | cut -c1-64)
  sed -i "s|^tiny:.*|tiny:/os/images/tiny$suffix sha256=$sum|" "$conf/chos"
  usermod -s /bin/sh bob || return 1 # the busybox tree has no bash; setup serves the new passwd
  chos setup --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig" | grep image || return 1
  chos setup --check --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig" || return 1
  grep -qx /chos/.chos-images/tiny /proc/chos/valid || return 1
  [[ $(findmnt -rn -o FSTYPE,OPTIONS /chos/chos/.chos-images/tiny) == "$fstype ro,nosuid,nodev"* ]] || return 1
  out=$(as_ssh bob 'cat /etc/os-release; readlink /proc/chos/link; grep -c ^bob: /etc/passwd') || return 1
  echo "$out"
  [[ $out == *'PRETTY_NAME="chos tiny (busybox)"'* && $out == *$'\n/chos/.chos-images/tiny\n1' ]]
}
chos_vm_check ssh-lands-in-image lands_in_image .sqfs squashfs
chos_vm_check ssh-lands-in-erofs-image lands_in_image .erofs erofs

# tiny back to a directory: the image's mount is no longer listed, but a kmod session's link is
# a path resolved at every walk, so setup keeps it (and its bind in /chos) and says so.
unlisted_image_kept() {
  local out
  sed -i 's|^tiny:.*|tiny:/os/tiny|' "$conf/chos"
  out=$(chos setup --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig") || return 1
  echo "$out" | grep 'no longer listed'
  [[ $out == *'image mount /chos/.chos-images/tiny: "tiny" is no longer listed; kept'* ]] &&
  [[ $(findmnt -n -o FSTYPE /chos/.chos-images/tiny) == erofs ]] &&
  [[ $(findmnt -n -o FSTYPE /chos/chos/.chos-images/tiny) == erofs ]]
}
chos_vm_check unlisted-image-kept-for-kmod unlisted_image_kept

# With no session left, unmount every chosfs (the /chos binds carry copies) and unload.
check_says_unloaded() {
  local out mount
  kill "$(cat /run/chos-sshd.pid)"
  # Shared propagation: one umount may take its copies with it, so ask again each time.
  for _ in $(seq 20); do
    mount=$(findmnt -rn -t chosfs -o TARGET | tail -n1)
    [[ -z $mount ]] && break
    umount "$mount" || return 1
  done
  rmmod chos || return 1
  out=$(chos setup --check --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig" 2>&1) && return 1
  echo "$out"
  [[ $out == *"not loaded"* ]]
}
chos_vm_check setup-check-says-module-unloaded check_says_unloaded

problems=$(chos_vm_dmesg_problems)
echo "dmesg problems: $(grep -c . <<<"$problems")"
[[ -z $problems ]] || echo "$problems"
exit 0
