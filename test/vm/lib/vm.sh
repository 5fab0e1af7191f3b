# Shell helpers for scripts run by test/vm/run: `. /mnt/chos/lib/vm.sh`.

# Two small trees, each with its own os-release; only-in-a exists in tree A alone.
chos_vm_trees() {
  local t
  for t in a b; do
    mkdir -p "/srv/trees/$t/etc" "/srv/trees/$t/usr/bin"
    printf 'ID=%s\nPRETTY_NAME="chos test tree %s"\n' "$t" "$t" >"/srv/trees/$t/etc/os-release"
  done
  echo a >/srv/trees/a/only-in-a
}

# Loads the module built in this run, mounts chosfs at /proc/chos and lists both trees.
chos_vm_setup() {
  chos_vm_trees
  insmod /mnt/chos/dist/native/chos.ko
  mount -t chosfs chosfs /proc/chos
  echo /srv/trees/a >/proc/chos/valid
  echo /srv/trees/b >/proc/chos/valid
}

# Unmounts and unloads; fails if either step does.
chos_vm_teardown() {
  umount /proc/chos && rmmod chos
}

# Kernel warnings since boot: WARNING, BUG, Oops, Call Trace, leaks reported by the module.
chos_vm_dmesg_problems() {
  dmesg | grep -E 'WARNING|BUG|Oops|Call Trace|general protection|chos: leaked' || true
}

# Runs a check named $1 (the rest is the command), printing CHOS-CHECK <name> ok|fail <status>
# so one boot can run many checks and the jest side can assert each by name.
chos_vm_check() {
  local name=$1 rc
  shift
  echo "--- $name"
  "$@"
  rc=$?
  if ((rc == 0)); then echo "CHOS-CHECK $name ok"; else echo "CHOS-CHECK $name fail $rc"; fi
  return 0
}

# A tree /os/NAME for the kmod backend's logins: the VM's own /usr bound in (so chos, setpriv
# and sh run inside it), its own os-release, and empty targets for the host's identity files,
# which chos setup binds over them.
chos_vm_os_tree() {
  local t=/os/$1 f
  mkdir -p "$t/etc" "$t/usr" "$t/root"
  mount --bind /usr "$t/usr"
  for f in bin sbin lib lib64; do ln -sfn "usr/$f" "$t/$f"; done
  printf 'ID=chos-vm-%s\nPRETTY_NAME="chos vm %s"\n' "$1" "$1" >"$t/etc/os-release"
  for f in passwd group shadow gshadow hosts resolv.conf nsswitch.conf localtime; do : >"$t/etc/$f"; done
}

# The site's configuration in $1 for logins into chos_vm_os_tree's trixie and tiny: the
# catalogue (default trixie), the example policy the jest side copied in as chos-vm-policy,
# and a sysconfig binding /os into the root (the trees must resolve inside the session).
chos_vm_site_conf() {
  local conf=$1
  mkdir -p "$conf" &&
  printf '%%SHELLS\ntrixie:/os/trixie\ntiny:/os/tiny\ndefault:/os/trixie\n' >"$conf/chos" &&
  cp /mnt/chos/chos-vm-policy/policy.js /mnt/chos/chos-vm-policy/policy.js.qbc "$conf/" &&
  echo 'BINDMOUNT=/os' >"$conf/sysconfig" &&
  chmod 0644 "$conf"/chos "$conf"/policy.js* "$conf"/sysconfig
}

# Starts logsink (the VM runs no syslog daemon) so what pam_chos and chos log lands in $1, one
# line per message; returns once /dev/log accepts messages.
chos_vm_syslog() {
  local i
  /mnt/chos/bin/logsink "$1" &
  for ((i = 0; i < 100; i++)); do
    [[ -S /dev/log ]] && return 0
    sleep 0.05
  done
  echo "logsink did not bind /dev/log" >&2
  return 1
}
