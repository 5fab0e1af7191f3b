// The WASM harness's deadline clock counts this thread's CPU time, as the C sandbox's does, not
// the wall clock: time the thread spends off the CPU (here, asleep) does not move it.
import { ThreadClock } from "../../policy/harness/thread-clock";

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Runs fn with a clock of this thread and the milliseconds of wall time it took; closes it. */
function measured(fn: () => void): { clock: ThreadClock; cpuMs: number; wallMs: number } {
  const clock = new ThreadClock();
  try {
    const cpu = clock.nowNs();
    const wall = process.hrtime.bigint();
    fn();
    return { clock, cpuMs: (clock.nowNs() - cpu) / 1e6, wallMs: Number(process.hrtime.bigint() - wall) / 1e6 };
  } finally {
    clock.close();
  }
}

test("the clock is the kernel's per-thread CPU time on Linux", () => {
  expect(measured(() => {}).clock.isCpuTime).toBe(true);
});

test("a sleeping thread's clock stands still while the wall clock moves", () => {
  const { cpuMs, wallMs } = measured(() => sleep(200));
  expect(wallMs).toBeGreaterThanOrEqual(199);
  // A scheduler tick or two of bookkeeping around the sleep, far below the 200 ms slept.
  expect(cpuMs).toBeLessThan(50);
});

test("a busy thread's clock moves with its work, never ahead of the wall clock", () => {
  const { cpuMs, wallMs } = measured(() => {
    const clock = new ThreadClock();
    const start = clock.nowNs();
    while (clock.nowNs() - start < 50e6); // ends: a busy thread's CPU time grows
    clock.close();
  });
  expect(cpuMs).toBeGreaterThanOrEqual(50);
  // At most a scheduler tick of difference between when each clock was read.
  expect(wallMs).toBeGreaterThan(cpuMs - 5);
});
