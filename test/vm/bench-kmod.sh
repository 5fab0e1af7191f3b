# npm run bench:kmod (test/vm/run test/vm/bench-kmod.sh): the kernel module's costs, measured
# inside the kernel test/vm/run boots (CHOS_VM_KERNEL) in QEMU, every figure against a baseline
# taken in the same boot.
#   fork: fork + exit + wait without the module, vs. loaded with the caller's link set (each
#         child gets and drops an entry), and loaded with no link (one failed lookup per fork).
#   stat: stat(2) of files by their direct path in the tree, vs. through /chos/usr laid out as
#         `chos setup` does (pam/core/common/layout.h: /chos/usr -> .chosfs/link/usr, chosfs also
#         mounted at /chos/.chosfs), vs. two layouts measured against it: the former one
#         (/chos/usr -> .chos-link/usr, /chos/.chos-link -> /proc/chos/link: /proc's entries
#         leave the RCU path walk, proc_misc_d_revalidate) and /chos/usr -> .chos-link/usr with
#         /chos/.chos-link -> .chosfs/link (one symlink more than setup's); and through
#         /proc/chos/link/usr itself, without the /chos symlinks. One more splits setup's cost:
#         the same shape with an ordinary symlink for the link (/chos-plain: .chosfs a tmpfs),
#         so what the module adds is setup's ratio minus that one; and /chos-one/usr, a plain
#         symlink straight to the tree's usr: the floor of any layout that goes through a symlink.
# Guest time runs on QEMU's instruction counter (the line below), so figures count the work
# done, not the host's load; caches and atomics are not modelled, so read them as instruction
# costs. The conditions alternate, 5 times each; each figure is the median of those 5 medians
# (progs/bench.c), each ratio the median of the 5 paired ratios. Targets (issue 4): fork
# overhead under 5%, /chos within 1.3x of direct.
# chos-vm-qemu: -icount shift=0
. /mnt/chos/lib/vm.sh
set -eu

iterations=5
forks=300
stats=2000
tree=/srv/tree
files=()
for f in bin/ls bin/bash sbin/sshd lib/os-release lib/x86_64-linux-gnu/libc.so.6 \
         share/doc/bash/copyright lib/x86_64-linux-gnu/security/pam_unix.so; do
  [[ -e /usr/$f ]] && files+=("$f")
done

# The tree: its usr is the VM's own, so every path reaches the same inodes.
mkdir -p "$tree/usr" /chos/.chosfs /chos-proc /chos-two/.chosfs /chos-plain/.chosfs
mount --bind /usr "$tree/usr"
# setup's shape with no module in it: .chosfs a tmpfs, its link an ordinary symlink to the tree.
mount -t tmpfs tmpfs /chos-plain/.chosfs
ln -s "$tree" /chos-plain/.chosfs/link
ln -s .chosfs/link/usr /chos-plain/usr
# The floor of any layout with one symlink per OS directory: /chos-one/usr -> the tree's usr.
mkdir -p /chos-one
ln -s "$tree/usr" /chos-one/usr
ln -s .chosfs/link/usr /chos/usr
ln -s .chosfs/link /chos/.chos-link
ln -s .chos-link/usr /chos-proc/usr
ln -s /proc/chos/link /chos-proc/.chos-link
ln -s .chos-link/usr /chos-two/usr
ln -s .chosfs/link /chos-two/.chos-link

load() {
  insmod /mnt/chos/dist/native/chos.ko
  mount -t chosfs chosfs /proc/chos
  mount -t chosfs chosfs /chos/.chosfs
  mount -t chosfs chosfs /chos-two/.chosfs
  echo "$tree" >/proc/chos/valid
}
unload() {
  echo x >/proc/chos/resetchos
  umount /chos/.chosfs /chos-two/.chosfs /proc/chos
  rmmod chos
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

fork_none=() fork_loaded=() fork_link=() stat_direct=() stat_setup=() stat_plain=() stat_one=()
stat_proc=() stat_two=() stat_link=()
for _ in $(seq $iterations); do
  fork_none+=("$(bench fork $forks)")
  load
  fork_loaded+=("$(bench fork $forks)")
  echo "$tree" >/proc/chos/setchos   # this shell: every program below inherits it
  fork_link+=("$(bench fork $forks)")
  stat_direct+=("$(bench stat $stats "$tree/usr" "${files[@]}")")
  stat_setup+=("$(bench stat $stats /chos/usr "${files[@]}")")
  stat_plain+=("$(bench stat $stats /chos-plain/usr "${files[@]}")")
  stat_one+=("$(bench stat $stats /chos-one/usr "${files[@]}")")
  stat_proc+=("$(bench stat $stats /chos-proc/usr "${files[@]}")")
  stat_two+=("$(bench stat $stats /chos-two/usr "${files[@]}")")
  stat_link+=("$(bench stat $stats /proc/chos/link/usr "${files[@]}")")
  [[ $(readlink /proc/chos/link) == "$tree" ]]
  unload
done

# Median of the per-iteration ratios $2[i] / $1[i] (arrays passed by name).
ratio() {
  local -n num=$2 den=$1
  local i out=()
  for i in "${!num[@]}"; do out+=("$(awk -v a="${num[i]}" -v b="${den[i]}" 'BEGIN { printf "%.4f", a / b }')"); done
  median "${out[@]}"
}
row() { printf '%-52s %9.2f us %7.3fx\n' "$1" "$(awk -v v="$2" 'BEGIN { print v / 1000 }')" "$3"; }

printf '%-52s %12s %8s\n' "chos.ko on $(uname -r), QEMU TCG, icount" "median" "ratio"
row "fork+exit+wait, no module (baseline)" "$(median "${fork_none[@]}")" 1
row "fork+exit+wait, module loaded, caller has no link" "$(median "${fork_loaded[@]}")" "$(ratio fork_none fork_loaded)"
row "fork+exit+wait, module loaded, caller has a link" "$(median "${fork_link[@]}")" "$(ratio fork_none fork_link)"
row "stat, ${#files[@]} files by direct path in the tree (baseline)" "$(median "${stat_direct[@]}")" 1
row "stat, /chos/usr -> .chosfs/link/usr (chos setup)" "$(median "${stat_setup[@]}")" "$(ratio stat_direct stat_setup)"
row "stat, the same shape, link a plain symlink (no module)" "$(median "${stat_plain[@]}")" "$(ratio stat_direct stat_plain)"
row "stat, /chos-one/usr -> the tree's usr (one symlink)" "$(median "${stat_one[@]}")" "$(ratio stat_direct stat_one)"
row "stat, .chos-link/usr, .chos-link -> /proc/chos/link" "$(median "${stat_proc[@]}")" "$(ratio stat_direct stat_proc)"
row "stat, .chos-link/usr, .chos-link -> .chosfs/link" "$(median "${stat_two[@]}")" "$(ratio stat_direct stat_two)"
row "stat, via /proc/chos/link/usr (no /chos symlinks)" "$(median "${stat_link[@]}")" "$(ratio stat_direct stat_link)"
echo "goals: fork+exit with a link <= 1.03x; stat through /chos/usr <= 1.2x direct"
