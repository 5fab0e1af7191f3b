#!/bin/sh
# Runs as the first process of a test mount namespace (`unshare -m --propagation shared`, so
# its mounts are shared like a systemd host's, yet none of them is the real host's peer).
# Gives the namespace a private /dev: the host's device nodes bound in, and a /dev/log of its
# own served by busybox syslogd into DIR/syslog, so tests read exactly what pam_chos and sshd
# logged. Then it waits; the namespace ends when the test kills it and every process in it.
# Usage: ns-init.sh DIR
set -eu
dir=$1
mkdir -p "$dir/hostdev"
mount --rbind /dev "$dir/hostdev"
# Private, or the tmpfs below would propagate onto this copy of the host's /dev as well.
mount --make-rprivate "$dir/hostdev"
mount -t tmpfs -o mode=755 chos-test-dev /dev
for node in null zero full random urandom tty ptmx console kmsg; do
  [ -e "$dir/hostdev/$node" ] || continue
  touch "/dev/$node"
  mount --bind "$dir/hostdev/$node" "/dev/$node"
done
for sub in pts shm; do
  mkdir "/dev/$sub"
  mount --rbind "$dir/hostdev/$sub" "/dev/$sub"
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
umount -l "$dir/hostdev"
: >"$dir/syslog"
busybox syslogd -n -O "$dir/syslog" &
while [ ! -S /dev/log ]; do sleep 0.01; done
touch "$dir/ready"
exec sleep infinity
