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
# chos setup mounts it at /chos/.chos-images/tiny@GEN (GEN: its digest's first 16 hex digits),
# binds it at the same path inside /chos (where the link resolves), lists that path in valid and
# points /chos/.chos-images/tiny at it; bob's login then lands in the image's busybox tree.
lands_in_image() {  # SUFFIX FSTYPE
  local suffix=$1 fstype=$2 out sum gen
  mkdir -p /os/images && install -m 0644 "/mnt/chos/chos-vm-image/tiny$suffix" /os/images/ || return 1
  sum=$(sha256sum "/os/images/tiny$suffix" | cut -c1-64)
  gen=tiny@${sum:0:16}
  sed -i "s|^tiny:.*|tiny:/os/images/tiny$suffix sha256=$sum|" "$conf/chos"
  usermod -s /bin/sh bob || return 1 # the busybox tree has no bash; setup serves the new passwd
  chos setup --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig" | grep image || return 1
  chos setup --check --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig" || return 1
  grep -qx "/chos/.chos-images/$gen" /proc/chos/valid || return 1
  [[ $(readlink /chos/.chos-images/tiny) == "$gen" ]] || return 1
  [[ $(findmnt -rn -o FSTYPE,OPTIONS "/chos/chos/.chos-images/$gen") == "$fstype ro,nosuid,nodev"* ]] || return 1
  out=$(as_ssh bob 'cat /etc/os-release; readlink /proc/chos/link; grep -c ^bob: /etc/passwd') || return 1
  echo "$out"
  [[ $out == *'PRETTY_NAME="chos tiny (busybox)"'* && $out == *$'\n'"/chos/.chos-images/$gen"$'\n1' ]]
}
chos_vm_check ssh-lands-in-image lands_in_image .sqfs squashfs

# A session that prints its /usr's filesystem type (statfs f_type: squashfs 73717368, erofs
# e0f5e1e2), waits for /tmp/chos-go, and prints it again; its output goes to FILE. Returns once
# the first line is there.
session_on_image() {  # FILE
  rm -f /tmp/chos-go "$1"
  as_ssh bob 'stat -f -c %t /usr/; while [ ! -e /tmp/chos-go ]; do sleep 0.2; done; stat -f -c %t /usr/' >"$1" 2>&1 &
  local i
  for i in $(seq 150); do [[ -s $1 ]] && return 0; sleep 0.2; done
  echo "the session did not start: $(cat "$1")"; return 1
}

# The image replaced (the catalogue pins the erofs file instead) while bob's session runs on the
# squashfs one: setup mounts the new generation and keeps the old while a process's link leads
# into it (/proc/chos/held); new logins land in the new one, the running session stays on the
# old; once it ends, the next run takes the old generation away, inside /chos too.
replaced_image_kept() {
  local sum old new out
  sum=$(sha256sum /os/images/tiny.sqfs | cut -c1-64); old=tiny@${sum:0:16}
  session_on_image /tmp/chos-old-session || return 1
  install -m 0644 /mnt/chos/chos-vm-image/tiny.erofs /os/images/ || return 1
  sum=$(sha256sum /os/images/tiny.erofs | cut -c1-64); new=tiny@${sum:0:16}
  sed -i "s|^tiny:.*|tiny:/os/images/tiny.erofs sha256=$sum|" "$conf/chos"
  out=$(chos setup --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig")
  echo "$out" | grep image
  touch /tmp/chos-go # whatever happens below, the session ends
  [[ $out =~ "image mount /chos/.chos-images/$old: no listed image leads to it; kept while "[1-9][0-9]*" processes' links lead into it" ]] ||
    return 1
  [[ $(readlink /chos/.chos-images/tiny) == "$new" ]] &&
  [[ $(findmnt -n -o FSTYPE "/chos/chos/.chos-images/$old") == squashfs ]] || return 1
  [[ $(as_ssh bob 'stat -f -c %t /usr/') == e0f5e1e2 ]] || return 1
  wait
  [[ $(cat /tmp/chos-old-session) == $'73717368\n73717368' ]] || { cat /tmp/chos-old-session; return 1; }
  out=$(chos setup --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig") || return 1
  echo "$out" | grep image
  [[ $out == *"done: detached image mount /chos/.chos-images/$old: no listed image, and no process's link, leads to it"* ]] &&
  [[ ! -e /chos/.chos-images/$old && ! -e /chos/chos/.chos-images/$old ]] &&
  ! grep -q "$old" /proc/chos/held
}
chos_vm_check ssh-replaced-image-kept-for-running-session replaced_image_kept
chos_vm_check ssh-lands-in-erofs-image lands_in_image .erofs erofs

# tiny back to a directory while bob's session runs on the image: setup removes the name, keeps
# the mount while the session's links lead into it, and detaches it at the first run after.
unlisted_image_kept() {
  local sum gen out
  sum=$(sha256sum /os/images/tiny.erofs | cut -c1-64); gen=tiny@${sum:0:16}
  session_on_image /tmp/chos-unlisted-session || return 1
  sed -i 's|^tiny:.*|tiny:/os/tiny|' "$conf/chos"
  out=$(chos setup --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig")
  echo "$out" | grep -e 'no longer listed' -e 'leads to it'
  touch /tmp/chos-go
  [[ $out == *'done: removed /chos/.chos-images/tiny: "tiny" is no longer listed'* ]] &&
  [[ $out == *"image mount /chos/.chos-images/$gen: no listed image leads to it; kept while"* ]] &&
  [[ $(findmnt -n -o FSTYPE "/chos/chos/.chos-images/$gen") == erofs ]] || return 1
  wait
  [[ $(cat /tmp/chos-unlisted-session) == $'e0f5e1e2\ne0f5e1e2' ]] || { cat /tmp/chos-unlisted-session; return 1; }
  out=$(chos setup --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig") || return 1
  [[ $out == *"done: detached image mount /chos/.chos-images/$gen"* ]] &&
  [[ -z $(findmnt -rn -o TARGET | grep .chos-images) ]]
}
chos_vm_check unlisted-image-kept-while-used unlisted_image_kept

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
