// The ~/.chos reader against an unprivileged racer inside Debian 12's 6.1 kernel under QEMU
// (issue: on 6.1 a racer opened a login's /proc/PID/mem within seconds). 60 s against
// pamtester, then 60 s against `runuser -l`, both dumpable at session open; alice's racer
// (test/vm/progs/racer.c) tries /proc/PID/mem read-write on every task of each
// login (and SIGSTOP only against pamtester: runuser's child is the user's own before its exec).
// Sequence: test/vm/suites/reader-race.sh.
import { checkOutput, expectCheck, runVmWithExamplePolicy, VmResult } from './lib/vm';

let result: VmResult;

beforeAll(async () => {
  result = await runVmWithExamplePolicy('test/vm/suites/reader-race.sh');
}, 600_000);

test('the race suite ran to the end inside the VM with no kernel warnings', () => {
  expect(result.output).toContain('dmesg problems: 0\n');
  expect(result.status).toBe(0);
});

test.each(['pamtester', 'runuser'])('60 s of %s logins: the racer saw readers and won 0 times; every login landed in tiny', (name) => {
  expectCheck(result, `reader-race-${name}`);
  expect(checkOutput(result, `reader-race-${name}`)).toMatch(/racer: readers-seen [1-9]\d* attempts \d+ wins 0\n/);
});
