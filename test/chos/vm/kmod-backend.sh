# The kmod backend of the chos command and of pam_chos, in Debian 12's kernel with chos.ko
# (run by test/chos/kmod.test.ts: test/vm/run test/chos/vm/kmod-backend.sh POLICYDIR). Each
# check prints "CHOS-CHECK <name> ok|fail"; the jest side asserts every name.
#
# Two trees, /os/trixie and /os/tiny, stand in for the real ones: the VM's own /usr bound in
# (so chos, setpriv and sh run inside them) with their own os-release. They live under /os,
# which /etc/sysconfig's BINDMOUNT binds into /chos: the link's target must resolve inside it.
# The example policy: alice (physics) may use both, bob (chemistry) only tiny.
. /mnt/chos/lib/vm.sh
set -u
conf=/os/conf
policy=$(ls -d /mnt/chos/chos-vm-policy)

prepare() {
  # The VM's mounts stay private (no systemd), the harder case for chos setup's binds.
  chos_vm_os_tree trixie && chos_vm_os_tree tiny || return 1
  mkdir -p "$conf"
  printf '%%SHELLS\ntrixie:/os/trixie\ntiny:/os/tiny\ndefault:/os/trixie\n' >"$conf/chos"
  # With its bytecode: from source, under TCG, the policy can overrun its 100 ms deadline.
  cp "$policy/policy.js" "$policy/policy.js.qbc" "$conf/" || return 1
  echo 'BINDMOUNT=/os' >"$conf/sysconfig"
  chmod 0644 "$conf"/*
  # The image may already have these users (other suites): only their primary group matters.
  local u g
  for u in alice:physics bob:chemistry; do
    g=${u#*:} u=${u%%:*}
    getent group "$g" >/dev/null || groupadd "$g" || return 1
    if id "$u" >/dev/null 2>&1; then usermod -g "$g" "$u"; else useradd -m -g "$g" -s /bin/sh "$u"; fi || return 1
  done
  # The module is neither loaded nor mounted: chos setup does both.
}
prepare || { echo "prepare failed"; exit 1; }

opts=(--catalogue "$conf/chos" --policy "$conf/policy.js" --root /chos)
as() {
  local u=$1
  shift
  setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- \
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$u" "$@"
}
pretty() { sed -n 's/^PRETTY_NAME=//p'; }

setup_args=(--backend kmod --root /chos --catalogue "$conf/chos" --sysconfig "$conf/sysconfig"
  --policy "$conf/policy.js")
# Exit status and output of one `chos setup` run, for the checks below.
run_setup() {
  out=$(chos setup "$@" 2>&1)
  rc=$?
  echo "\$ chos setup $* -> $rc"
  echo "$out"
}
ko=/lib/modules/$(uname -r)/extra/chos.ko

# chos setup loads the module (modprobe; else --module's file), mounts /proc/chos, lists the
# trees; --check names what is missing; a second run changes nothing.
setup() {
  run_setup --check "${setup_args[@]}"
  ((rc == 1)) && [[ $out == *'problem: the chos kernel module is not loaded (/proc/chos is missing); fix: run `chos setup` (it loads it: modprobe chos, or --module PATH)'* ]] ||
    return 1
  # Not installed for modprobe: only --module loads it.
  mv "$ko" /root/chos.ko.installed && depmod -a 2>/dev/null || return 1
  run_setup "${setup_args[@]}"
  ((rc == 1)) && [[ $out == *'problem: the chos kernel module is not loaded and `modprobe chos` failed (exit 1)'* ]] ||
    return 1
  run_setup "${setup_args[@]}" --module /mnt/chos/dist/native/chos.ko
  ((rc == 0)) && [[ $out == *'done: loaded the chos kernel module from /mnt/chos/dist/native/chos.ko'* ]] &&
    [[ $out == *'done: mounted chosfs on /proc/chos'* ]] || return 1
  mv /root/chos.ko.installed "$ko" && depmod -a 2>/dev/null || return 1
  # Unmounted and unloaded: the installed module comes back through modprobe.
  umount /proc/chos || return 1
  run_setup --check "${setup_args[@]}"
  ((rc == 1)) && [[ $out == *'problem: the chos filesystem is not mounted on /proc/chos; fix: run `chos setup` (it mounts it: mount -t chosfs chosfs /proc/chos)'* ]] ||
    return 1
  # The link resolves through /chos/.chosfs, and with private mounts the root's /proc holds its
  # own chosfs mount: rmmod needs all three gone.
  if rmmod chos 2>/dev/null; then echo "rmmod succeeded with chosfs on /chos"; return 1; fi
  umount /chos/.chosfs && umount /chos/proc/chos && rmmod chos || return 1
  run_setup "${setup_args[@]}"
  ((rc == 0)) && [[ $out == *'done: loaded the chos kernel module (modprobe chos)'* ]] &&
    [[ $out == *'done: mounted chosfs on /chos/.chosfs'* ]] &&
    [[ $out == *'done: mounted chosfs on /chos/proc/chos'* ]] || return 1
  [[ $(readlink /chos/.chos-link) == .chosfs/link ]] && [[ $(readlink /chos/usr) == .chosfs/link/usr ]] &&
  grep -qx /os/tiny /proc/chos/valid && grep -qx /os/trixie /proc/chos/valid || return 1
  run_setup "${setup_args[@]}"
  ((rc == 0)) && [[ $out == 'chos setup: done' ]] || return 1
  run_setup --check "${setup_args[@]}"
  ((rc == 0)) && [[ $out == 'chos setup: no problems' ]]
}
chos_vm_check setup setup

# Root enters through kmod_apply's path: setchos, then a private namespace and pivot_root.
root_run() {
  [[ $(chos run "${opts[@]}" tiny -- cat /etc/os-release | pretty) == '"chos vm tiny"' ]] &&
  [[ $(chos run "${opts[@]}" tiny -- chos current) == $'env: tiny\nview: chos\nlink: /os/tiny' ]] &&
  # the caller's own link is untouched: chos ran in a child
  [[ $(readlink /proc/chos/link) == / ]]
}
chos_vm_check root-run root_run

# An unprivileged user: setchos needs no privilege; the root change uses a user namespace.
user_run() {
  [[ $(as alice chos run "${opts[@]}" trixie -- cat /etc/os-release | pretty) == '"chos vm trixie"' ]] &&
  [[ $(as alice chos run "${opts[@]}" trixie -- id -un) == alice ]]
}
chos_vm_check user-run user_run

# Inside a session's view (root enters, then the user runs), switching is one setchos write:
# no namespace is made, and os-release follows.
switch_in_session() {
  local out
  out=$(chos run "${opts[@]}" trixie -- setpriv --reuid=alice --regid="$(id -g alice)" --init-groups -- \
    sh -c "cat /etc/os-release; readlink /proc/self/ns/mnt; chos run ${opts[*]} tiny -- sh -c 'cat /etc/os-release; readlink /proc/self/ns/mnt'")
  echo "$out"
  [[ $(echo "$out" | pretty | tr '\n' ' ') == '"chos vm trixie" "chos vm tiny" ' ]] &&
  (($(echo "$out" | grep -c '^mnt:') == 2)) &&
  [[ $(echo "$out" | grep '^mnt:' | uniq | wc -l) == 1 ]]
}
chos_vm_check switch-in-session switch_in_session

refused() {
  local err
  err=$(as bob chos run "${opts[@]}" trixie -- true 2>&1 >/dev/null)
  [[ $err == "chos: 'trixie' refused: the policy chooses 'tiny' for you: the certified solver runs on tiny only (group:chemistry)" ]]
}
chos_vm_check refused refused

# A tree outside the root's binds is refused before anything changes.
invisible() {
  local err
  mkdir -p /srv/outside/etc && echo /srv/outside >/proc/chos/valid
  printf '%%SHELLS\noutside:/srv/outside\n' >"$conf/outside" && chmod 0644 "$conf/outside"
  err=$(chos run --catalogue "$conf/outside" --policy "$conf/policy.js" --root /chos outside -- true 2>&1)
  [[ $err == "chos: kmod backend: tree /srv/outside is not visible inside /chos at the same path: keep the trees under a directory bound into the root (BINDMOUNT in /etc/sysconfig/chos) and run \`chos setup\`" ]] &&
  [[ $(readlink /proc/chos/link) == / ]]
}
chos_vm_check invisible invisible

# Without chosfs at /chos/.chosfs the link would dangle: refused before anything changes,
# --check names it, and setup mounts it again.
no_chosfs_in_root() {
  local err
  umount /chos/.chosfs || return 1
  err=$(chos run "${opts[@]}" tiny -- true 2>&1)
  [[ $err == 'chos: kmod backend: /chos/.chosfs does not show the chos filesystem; run `chos setup`' ]] &&
  [[ $(readlink /proc/chos/link) == / ]] || return 1
  run_setup --check "${setup_args[@]}"
  ((rc == 1)) && [[ $out == *'problem: /chos/.chosfs does not show the chos filesystem: sessions cannot resolve the link; fix: run `chos setup`'* ]] ||
    return 1
  run_setup "${setup_args[@]}"
  ((rc == 0)) && [[ $out == *'done: mounted chosfs on /chos/.chosfs'* ]] &&
  [[ $(chos run "${opts[@]}" tiny -- cat /etc/os-release | pretty) == '"chos vm tiny"' ]]
}
chos_vm_check no-chosfs-in-root no_chosfs_in_root

# pam_chos with backend=kmod: bob lands in tiny; in the session, user namespaces still work
# (pivot_root, not chroot: a chrooted process gets EPERM), bob resolves through the host's
# passwd served in the tree, and `chos list` reads the site's catalogue and policy served there.
pam_kmod() {
  # pam_exec takes no shell quoting: the session's commands are a script in a bound directory.
  cat >"$conf/session.sh" <<'EOT'
#!/bin/sh
cat /etc/os-release; readlink /proc/chos/link; unshare -U true && echo userns-ok
echo "passwd: $(id -un bob)"
setpriv --reuid=bob --regid="$(id -g bob)" --init-groups /usr/local/bin/chos list | sed 's/^/list: /'
EOT
  chmod 0755 "$conf/session.sh"
  cat >/etc/pam.d/chos-kmod <<EOT
auth required pam_permit.so
account required pam_permit.so
session requisite pam_chos.so catalogue=$conf/chos policy=$conf/policy.js root=/chos backend=kmod
session optional pam_exec.so stdout $conf/session.sh
EOT
  local out
  out=$(pamtester chos-kmod bob open_session close_session 2>&1)
  local rc=$?
  echo "$out"
  ((rc == 0)) && [[ $out == *'PRETTY_NAME="chos vm tiny"'* ]] && [[ $out == *$'\n/os/tiny\n'* ]] &&
    [[ $out == *userns-ok* ]] && [[ $out == *$'\npasswd: bob\n'* ]] && [[ $out == *$'\nlist: tiny\t/os/tiny\n'* ]]
}
chos_vm_check pam-kmod pam_kmod

echo "dmesg problems: $(chos_vm_dmesg_problems | wc -l)"
chos_vm_dmesg_problems
