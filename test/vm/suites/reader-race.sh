# The ~/.chos reader against an unprivileged racer in Debian 12's 6.1 (run by
# test/vm/reader-race.test.ts with the example policy built on the host). alice (physics, may
# ask for tiny) has ~/.chos; root drives logins through pamtester and `runuser -l`, both of
# which are dumpable at session open, while alice runs test/vm/progs/racer, which spins on
# open(/proc/PID/mem, O_RDWR) and SIGSTOP against every task of the login. Each phase runs
# CHOS_RACE_SECONDS (60) and must end with 0 wins, readers seen, and every login in tiny.
# pam_chos's lines go to /tmp/chos.log (logsink): a login that lands elsewhere prints its own.
. /mnt/chos/lib/vm.sh
set -u
seconds=${CHOS_RACE_SECONDS:-60}
conf=/os/conf
args="catalogue=$conf/chos policy=$conf/policy.js root=/chos backend=namespace"

prepare() {
  chos_vm_syslog /tmp/chos.log || return 1
  chos_vm_os_tree trixie && chos_vm_os_tree tiny || return 1
  chos_vm_site_conf "$conf" || return 1
  groupadd physics && usermod -g physics alice || return 1
  chos setup --backend namespace --catalogue "$conf/chos" --policy "$conf/policy.js" --root /chos \
    --sysconfig "$conf/sysconfig" || return 1
  echo tiny >/home/alice/.chos && chown alice:physics /home/alice/.chos
  printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession requisite pam_chos.so %s\nsession optional pam_exec.so stdout /bin/cat /etc/os-release\n' \
    "$args" >/etc/pam.d/chos-race
  # runuser -l reads runuser-l. pam_chos goes last: the modules after it would run inside the
  # tree, and these test trees have no /etc/security/limits.conf for pam_limits.
  echo "session requisite pam_chos.so $args" >>/etc/pam.d/runuser-l
}
prepare || { echo "prepare failed"; exit 1; }

# race MODE NAME COMMAND...: alice's racer (MODE: mem, or stop as well) against the tasks named
# NAME while root runs COMMAND in a loop for $seconds; every login must land in tiny. A wrong
# login prints the last lines of its output and what pam_chos logged for it. One exception is
# counted apart as "slowed": a login the policy's deadline (100 ms of CPU time) sent to the host
# under on_error=host. Under TCG a busy host can stall the vCPU mid-evaluation and the guest
# charges the stall to the running thread; that says nothing about the reader, but more than
# one login in ten so slowed fails the check. Every login must have logged its line.
race() {
  local mode=$1 name=$2 racer_pid rc logins=0 wrong=0 slowed=0 out lines before
  shift 2
  # setpriv: alice, her groups, no capabilities; the racer ends itself after $seconds.
  setpriv --reuid=alice --regid=physics --init-groups /mnt/chos/bin/racer "$seconds" "$mode" "$name" \
    >/tmp/racer.out 2>&1 &
  racer_pid=$!
  before=$(grep -c 'pam_chos.*user="alice"' /tmp/chos.log)
  while kill -0 "$racer_pid" 2>/dev/null; do
    lines=$(wc -l </tmp/chos.log)
    # A stopped reader would hang the login: the timeout turns that into a wrong login.
    if out=$("$@" 2>&1) && grep -q '^ID=chos-vm-tiny$' <<<"$out"; then
      :
    elif tail -n "+$((lines + 1))" /tmp/chos.log | grep -q 'env=(host) .* failed=policy fault=timeout '; then
      slowed=$((slowed + 1))
    else
      wrong=$((wrong + 1))
      echo "$out" | tail -n 3
      tail -n "+$((lines + 1))" /tmp/chos.log | grep pam_chos
    fi
    logins=$((logins + 1))
  done
  wait "$racer_pid"
  rc=$?
  cat /tmp/racer.out
  lines=$(($(grep -c 'pam_chos.*user="alice"' /tmp/chos.log) - before))
  echo "$name: logins $logins wrong $wrong slowed $slowed logged $lines"
  ((rc == 0 && wrong == 0 && logins > 0 && slowed * 10 <= logins && lines >= logins))
}
chos_vm_check reader-race-pamtester race stop pamtester timeout 20 pamtester chos-race alice open_session close_session
runuser_login() { timeout 20 runuser -l alice -c 'cat /etc/os-release'; }
chos_vm_check reader-race-runuser race mem runuser runuser_login

problems=$(chos_vm_dmesg_problems)
echo "dmesg problems: $(grep -c . <<<"$problems")"
[[ -z $problems ]] || echo "$problems"
exit 0
