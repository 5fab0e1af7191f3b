# A Slurm node with the kmod backend, in Debian 12's kernel with chos.ko (run by
# test/vm/slurm.test.ts: test/vm/run test/vm/suites/slurm.sh POLICYDIR, the example policy built
# on the host). Each check prints "CHOS-CHECK <name> ok|fail".
#
# munged, slurmctld and one slurmd (node chosvm) run inside the VM on loopback, from the image's
# own Slurm 22.05 packages, with spank_chos.so (built on the host against the same release) in
# plugstack.conf with backend=kmod. The trees and the site are ssh.sh's: /os/trixie and /os/tiny,
# the example policy (alice, physics: trixie, may ask for tiny; bob, chemistry: tiny only).
. /mnt/chos/lib/vm.sh
set -u
conf=/os/conf
opts=(--catalogue "$conf/chos" --policy "$conf/policy.js" --root /chos)
log=/tmp/syslog
# The batch script's srun runs inside the tree, whose /etc and /run are its own: Slurm's
# configuration and munged's socket live where every tree sees them (BINDMOUNT=/os; a site
# binds /etc/slurm and /run/munge, or goes configless).
export SLURM_CONF=$conf/slurm/slurm.conf
work=/tmp/slurm-work # bound into every tree by chos setup (/tmp), like the job's files

prepare() {
  mount --make-rshared / # shared mounts, as on every systemd host
  # Slurm resolves names with AI_ADDRCONFIG, which glibc answers only when some IPv4 address
  # other than 127.0.0.1 is configured: the VM has no network (-nic none), so give lo one.
  ip addr add 10.254.0.1/32 dev lo || return 1
  # slurmd's cgroup plugin wants the unified hierarchy where systemd mounts it, and with no
  # systemd it makes slurmstepd's scope itself (cgroup.conf IgnoreSystemd) in system.slice.
  mount -t cgroup2 cgroup2 /sys/fs/cgroup && mkdir /sys/fs/cgroup/system.slice || return 1
  chos_vm_os_tree trixie && chos_vm_os_tree tiny && chos_vm_site_conf "$conf" || return 1
  groupadd physics && groupadd chemistry && usermod -g physics alice && usermod -g chemistry bob &&
  chos_vm_syslog "$log" &&
  chos setup --backend kmod "${opts[@]}" --sysconfig "$conf/sysconfig" >/dev/null &&
  mkdir -p "$work" && chmod 1777 "$work"
}
prepare || { echo "prepare failed"; exit 1; }

start_slurm() {
  local spool=/tmp/slurmd-spool # the batch script is read after the switch: keep it bound in
  local m=$conf/munge # srun in a batch script reaches munged from inside the tree too
  mkdir -p "$conf/slurm"
  printf 'CgroupPlugin=cgroup/v2\nIgnoreSystemd=yes\n' >$conf/slurm/cgroup.conf
  mkdir -p $m /var/spool/slurmctld "$spool" /var/log/slurm &&
  dd if=/dev/urandom of=$m/munge.key bs=1024 count=1 status=none && chmod 0400 $m/munge.key || return 1
  munged --force --key-file=$m/munge.key --socket=$m/munge.socket.2 --pid-file=$m/munged.pid \
    --log-file=$m/munged.log --seed-file=$m/seed || { cat $m/munged.log; return 1; }
  cat >"$SLURM_CONF" <<EOT
ClusterName=chosvm
SlurmctldHost=chosvm
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$m/munge.socket.2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=$spool
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
PlugStackConfig=$conf/slurm/plugstack.conf
NodeName=chosvm NodeAddr=127.0.0.1 CPUs=4
PartitionName=batch Nodes=chosvm Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOT
  # Where the chos package puts it; the trees here share the VM's /usr, so a batch script's
  # srun finds it too (a site installs it in each tree that runs Slurm commands).
  install -m 0644 /mnt/chos/dist/native/spank_chos.so /mnt/chos/dist/native/spank_chos_step.so \
    /usr/lib/x86_64-linux-gnu/slurm-wlm/ || return 1
  echo "required /usr/lib/x86_64-linux-gnu/slurm-wlm/spank_chos.so catalogue=$conf/chos policy=$conf/policy.js root=/chos backend=kmod" \
    >"$conf/slurm/plugstack.conf"
  if slurmctld && slurmd; then
    for _ in $(seq 150); do
      [[ $(sinfo -h -N -o %t 2>/dev/null) == idle ]] && return 0
      sleep 0.2
    done
  fi
  sinfo; tail -n 20 /var/log/slurm/slurmd.log /var/log/slurm/slurmctld.log
  return 1
}
mounts_before=$(findmnt -rn -o TARGET,SOURCE,FSTYPE | sort)
chos_vm_check slurm-starts start_slurm

# USER COMMAND...: a Slurm command as USER from the work directory, as from a login on the host.
as_user() {
  local user=$1
  shift
  # A step that cannot start waits for the node forever: fail it instead.
  runuser -u "$user" -- env -C "$work" timeout 120 "$@"
}
# What a task prints: $CHOS, its tree's ID, and its kernel link.
where='echo "$CHOS $(. /etc/os-release; echo $ID) $(readlink /proc/chos/link)"'

srun_lands_in_policy_tree() {
  local a b
  a=$(as_user alice srun sh -c "$where") && b=$(as_user bob srun sh -c "$where") || return 1
  echo "alice: $a"; echo "bob: $b"
  [[ $a == "trixie chos-vm-trixie /os/trixie" && $b == "tiny chos-vm-tiny /os/tiny" ]]
}
chos_vm_check srun-lands-in-policy-tree srun_lands_in_policy_tree

srun_option_honoured() {
  local out
  out=$(as_user alice srun --chos=tiny -n2 sh -c "$where") || return 1
  echo "$out"
  [[ $out == $'tiny chos-vm-tiny /os/tiny\ntiny chos-vm-tiny /os/tiny' ]]
}
chos_vm_check srun-chos-option-two-tasks srun_option_honoured

# The batch script itself runs in the tree, and so does the step it starts.
sbatch_runs_in_tree() {
  local id state out=$work/batch.out
  id=$(as_user alice sbatch --parsable -o "$out" --wrap "$where; srun sh -c '$where'") || return 1
  for _ in $(seq 300); do
    state=$(scontrol -o show job "$id" | sed -n 's/.*JobState=\([A-Z]*\).*/\1/p')
    [[ $state == COMPLETED || $state == FAILED || $state == CANCELLED ]] && break
    sleep 0.2
  done
  echo "state $state"; cat "$out"
  [[ $state == COMPLETED && $(cat "$out") == $'trixie chos-vm-trixie /os/trixie\ntrixie chos-vm-trixie /os/trixie' ]]
}
chos_vm_check sbatch-runs-in-tree sbatch_runs_in_tree

# One line per step, with the backend and the job's ids.
step_logged() {
  grep 'spank_chos: user=' "$log"
  grep -Eq 'spank_chos: user="alice" env=trixie requested=- .* backend=kmod us=[0-9]+ job=[0-9]+ step=0$' "$log" &&
  grep -Eq 'spank_chos: user="bob" env=tiny .* backend=kmod us=[0-9]+ job=[0-9]+ step=0$' "$log" &&
  grep -Eq 'spank_chos: user="alice" env=trixie .* job=[0-9]+ step=batch$' "$log"
}
chos_vm_check step-log-lines-say-kmod step_logged

# The node itself is untouched: its mount table is what it was before any step, and root's
# shell here has no link.
node_unchanged() {
  local after
  after=$(findmnt -rn -o TARGET,SOURCE,FSTYPE | sort)
  diff <(echo "$mounts_before") <(echo "$after") && [[ $(readlink /proc/chos/link) == / ]]
}
chos_vm_check node-mounts-and-link-unchanged node_unchanged

problems=$(chos_vm_dmesg_problems)
echo "dmesg problems: $(grep -c . <<<"$problems")"
[[ -z $problems ]] || echo "$problems"
exit 0
