# The kernel module's behaviours, run in one boot by test/vm/kmod.test.ts (test/vm/run
# test/vm/suites/kmod.sh). Each check prints "CHOS-CHECK <name> ok|fail"; the jest side
# asserts every name. The order matters only where said.
. /mnt/chos/lib/vm.sh
set -u
# The allocator hands back a freed object's old bytes (as on kernels built without
# INIT_ON_ALLOC_DEFAULT_ON, which Debian's enable): the module must initialise what it allocates.
# chos-vm-append: init_on_alloc=0

chos_vm_setup || { echo "setup failed"; exit 1; }

interface() {
  [[ $(stat -c '%A %n' /proc/chos/* | sort -k2 | tr '\n' ' ') == \
     "-r-------- /proc/chos/held lrwxrwxrwx /proc/chos/link --w--w--w- /proc/chos/resetchos --w--w--w- /proc/chos/setchos -r--r--r-- /proc/chos/stats -rw------- /proc/chos/valid -r--r--r-- /proc/chos/version " ]] &&
  [[ $(cat /proc/chos/version) == "chos $(modinfo -F version chos)" ]] &&
  [[ $(cat /proc/chos/stats) == $'entries 0\nlinks 2\nalloc_failures 0\nwithdrawn 0' ]] &&
  [[ $(readlink /proc/chos/link) == / ]] &&
  [[ $(findmnt -n -o FSTYPE /proc/chos) == chosfs ]]
}
chos_vm_check interface interface

# echo works: the shell's own link, as pam_chos and `chos` will set it.
shell_switch() {
  echo /srv/trees/b >/proc/chos/setchos &&
  [[ $(readlink /proc/chos/link) == /srv/trees/b ]] &&
  [[ $(sh -c '. /proc/chos/link/etc/os-release; echo $ID') == b ]] &&
  echo x >/proc/chos/resetchos && [[ $(readlink /proc/chos/link) == / ]]
}
chos_vm_check shell-switch shell_switch

chos_vm_check inherit inherit
chos_vm_check concurrent concurrent
chos_vm_check isolation isolation
chos_vm_check valid valid

# A link object made where a withdrawn one was freed is listed, not withdrawn, and the counts
# stay right: nothing of the old object's bytes survives into the new one.
reused_link_object() {
  local i
  echo -/srv/trees/b >/proc/chos/valid || return 1
  # The object is freed after an RCU grace period; every new add is a fresh allocation.
  for i in 1 2 3 4 5; do
    sleep 0.2
    echo /srv/trees/b >/proc/chos/valid && echo -/srv/trees/b >/proc/chos/valid || return 1
  done
  sleep 0.2
  echo /srv/trees/b >/proc/chos/valid &&
  [[ $(sh -c 'echo /srv/trees/b >/proc/chos/setchos && readlink /proc/chos/link') == /srv/trees/b ]] &&
  grep -qx 'withdrawn 0' /proc/chos/stats || { cat /proc/chos/stats; return 1; }
}
chos_vm_check reused-link-object reused_link_object

# held: how many processes each link object leads into its tree, listed or not (what chos setup
# asks before it unmounts a replaced image's old mount); root only.
held() {
  local holder out i
  echo - >/proc/chos/valid && echo /srv/trees/a >/proc/chos/valid && echo /srv/trees/b >/proc/chos/valid || return 1
  [[ $(cat /proc/chos/held) == $'0 /srv/trees/a\n0 /srv/trees/b' ]] || { cat /proc/chos/held; return 1; }
  sh -c 'echo /srv/trees/a >/proc/chos/setchos && exec sleep 60' &
  holder=$!
  for i in $(seq 100); do grep -qx '1 /srv/trees/a' /proc/chos/held && break; sleep 0.1; done
  # Cleared and refilled as chos setup does: the holder keeps its object, no longer listed.
  echo - >/proc/chos/valid && echo /srv/trees/b >/proc/chos/valid || { kill $holder; return 1; }
  out=$(cat /proc/chos/held)
  [[ $out == $'1 /srv/trees/a\n0 /srv/trees/b' ]] || { echo "$out"; kill $holder; return 1; }
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups cat /proc/chos/held 2>&1) &&
    { echo "nobody read held: $out"; kill $holder; return 1; }
  [[ $out == *"Operation not permitted"* ]] || { echo "$out"; kill $holder; return 1; }
  kill $holder
  wait $holder 2>/dev/null
  for i in $(seq 100); do [[ $(cat /proc/chos/held) == '0 /srv/trees/b' ]] && break; sleep 0.1; done
  [[ $(cat /proc/chos/held) == '0 /srv/trees/b' ]] || { cat /proc/chos/held; return 1; }
  # A withdrawn path leads nowhere: not shown.
  echo /srv/trees/a >/proc/chos/valid && echo -/srv/trees/a >/proc/chos/valid &&
  [[ $(cat /proc/chos/held) == '0 /srv/trees/b' ]] &&
  echo - >/proc/chos/valid && echo /srv/trees/a >/proc/chos/valid && echo /srv/trees/b >/proc/chos/valid
}
chos_vm_check held held
chos_vm_check errors errors

pid_reuse() {
  local old rc
  old=$(cat /proc/sys/kernel/pid_max)
  echo 1024 >/proc/sys/kernel/pid_max
  pidreuse
  rc=$?
  echo "$old" >/proc/sys/kernel/pid_max
  return $rc
}
chos_vm_check pid-reuse pid_reuse

walk() {
  walker && walker 65534 &&
  # The root walk listed /srv/walker: put the list back.
  echo - >/proc/chos/valid && echo /srv/trees/a >/proc/chos/valid && echo /srv/trees/b >/proc/chos/valid
}
chos_vm_check walker walk

storm_20000() {
  storm 20000 && grep -qx 'entries 0' /proc/chos/stats
}
chos_vm_check storm storm_20000

# Forks without waiting: 2000 children alive at once, each with an entry from a pool of 64.
chos_vm_check burst burst 2000

no_warnings() {
  local problems
  problems=$(chos_vm_dmesg_problems)
  [[ -z $problems ]] || { echo "$problems"; return 1; }
}
chos_vm_check dmesg-clean no_warnings

unload() {
  if rmmod chos 2>/dev/null; then echo "rmmod succeeded while mounted"; return 1; fi
  lsmod | grep -q '^chos ' &&
  [[ $(readlink /proc/chos/link) == / ]] &&
  umount /proc/chos && rmmod chos && ! lsmod | grep -q '^chos ' &&
  [[ ! -e /proc/chos ]]
}
chos_vm_check rmmod-refused-while-mounted-clean-after unload

# Unload right after a storm, while a process still holds a link: its entry is freed by rmmod.
unload_after_storm() {
  local holder
  insmod /mnt/chos/dist/native/chos.ko && mount -t chosfs chosfs /proc/chos &&
  echo /srv/trees/a >/proc/chos/valid || return 1
  sh -c 'echo /srv/trees/a >/proc/chos/setchos && exec sleep 30' &
  holder=$!
  storm 3000 1 || { kill $holder; return 1; }
  grep -qx 'entries 1' /proc/chos/stats || { echo "the holder's entry is gone"; kill $holder; return 1; }
  # Children still being freed (RCU) while the module goes.
  echo /srv/trees/a >/proc/chos/setchos &&
  for _ in $(seq 200); do sh -c 'exit 0'; done &&
  umount /proc/chos && rmmod chos || { kill $holder; return 1; }
  kill $holder; wait $holder 2>/dev/null
  [[ ! -e /proc/chos ]] && [[ -z $(chos_vm_dmesg_problems) ]]
}
chos_vm_check rmmod-right-after-storm unload_after_storm

# Load and unload again: nothing left behind by the first life.
reload() {
  insmod /mnt/chos/dist/native/chos.ko && mount -t chosfs chosfs /proc/chos &&
  [[ $(cat /proc/chos/stats) == $'entries 0\nlinks 0\nalloc_failures 0\nwithdrawn 0' ]] &&
  umount /proc/chos && rmmod chos && [[ -z $(chos_vm_dmesg_problems) ]]
}
chos_vm_check reload reload

# pool_size over 256 is refused. With no entry ready at fork (pool_size=0: none is ever made
# ready), the child starts without a link, counted and logged; in a layout root (a /chos like
# chos setup's, made here) it gets ELOOP.
unlinked_child() {
  local layout=/chos-layout rc
  if insmod /mnt/chos/dist/native/chos.ko pool_size=257 2>/dev/null; then
    echo "pool_size 257 was accepted"; rmmod chos; return 1
  fi
  dmesg | grep -q 'chos: pool_size 257 is over 256' || { echo "no pool_size error logged"; return 1; }
  insmod /mnt/chos/dist/native/chos.ko pool_size=0 && mount -t chosfs chosfs /proc/chos &&
  echo /srv/trees/a >/proc/chos/valid || return 1
  mkdir -p $layout/.chosfs $layout/srv && ln -sfn .chosfs/link/usr $layout/usr &&
  mount -t chosfs chosfs $layout/.chosfs && mount --bind /srv $layout/srv || return 1
  unlinked $layout
  rc=$?
  umount $layout/srv $layout/.chosfs /proc/chos && rmmod chos || return 1
  dmesg | grep -q 'chos: no entry ready for pid [0-9]*, child of [0-9]* (unlinked)' || {
    echo "no warning in dmesg"; return 1; }
  return $rc
}
chos_vm_check unlinked-child unlinked_child
exit 0
