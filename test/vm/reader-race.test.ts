// The ~/.chos reader against an unprivileged racer inside each of VM_KERNELS under QEMU (on
// Debian 12's 6.1 a racer opened an earlier reader's /proc/PID/mem within seconds). 60 s against
// pamtester, then 60 s against `runuser -l`, both dumpable at session open; alice's racer
// (test/vm/progs/racer.c) tries /proc/PID/mem read-write on every task of each
// login (and SIGSTOP only against pamtester: runuser's child is the user's own before its exec).
// Every login lands in tiny, except at most one in ten that the policy's CPU deadline sent to the
// host because the busy host stalled the emulated CPU (counted as "slowed", with its log line).
// Sequence: test/vm/suites/reader-race.sh.
import { checkOutput, describeEachKernel, expectCheck, runVmWithExamplePolicy } from "./lib/vm";

describeEachKernel(
  "the ~/.chos reader race",
  (kernel) => runVmWithExamplePolicy("test/vm/suites/reader-race.sh", kernel),
  (result) => {
    test("the race suite ran to the end inside the VM with no kernel warnings", () => {
      expect(result().output).toContain("dmesg problems: 0\n");
      expect(result().status).toBe(0);
    });

    test.each(["pamtester", "runuser"])(
      "60 s of %s logins: the racer saw readers and won 0 times; every login landed in tiny",
      (name) => {
        expectCheck(result(), `reader-race-${name}`);
        expect(checkOutput(result(), `reader-race-${name}`)).toMatch(
          /racer: readers-seen [1-9]\d* attempts \d+ wins 0\n/,
        );
      },
    );
  },
);
