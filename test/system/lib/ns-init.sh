#!/bin/sh
# Runs as the first process of a test mount namespace (`unshare -m --propagation shared`, so
# its mounts are shared like a systemd host's, yet none of them is the real host's peer).
# Gives the namespace a private /dev: the host's device nodes bound in (and loop devices), and a /dev/log of its
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
for node in null zero full random urandom tty console kmsg; do
  [ -e "$dir/hostdev/$node" ] || continue
  touch "/dev/$node"
  mount --bind "$dir/hostdev/$node" "/dev/$node"
done
# Loop devices for chos setup's images: the control node, and nodes for the devices it hands
# out (the kernel makes new ones in the host's devtmpfs only).
touch /dev/loop-control
mount --bind "$dir/hostdev/loop-control" /dev/loop-control
i=0
while [ $i -lt 256 ]; do
  mknod -m 0660 "/dev/loop$i" b 7 $i
  i=$((i + 1))
done
mkdir /dev/shm
mount --rbind "$dir/hostdev/shm" /dev/shm
# A pty master opened through a bound /dev/ptmx finds no devpts beside it: give the namespace
# its own devpts instance (as containers do) with /dev/ptmx pointing into it.
mkdir /dev/pts
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
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
