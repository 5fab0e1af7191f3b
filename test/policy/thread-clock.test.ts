// The WASM harness's deadline clock counts this thread's CPU time, as the C sandbox's does, not
// the wall clock: time the thread spends off the CPU (here, asleep) does not move it.
import { ThreadClock } from "../../policy/harness/thread-clock";

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

test("the clock is the kernel's per-thread CPU time on Linux", () => {
  const clock = new ThreadClock();
  try {
    expect(clock.isCpuTime).toBe(true);
  } finally {
    clock.close();
  }
});

test("a sleeping thread's clock stands still while the wall clock moves", () => {
  const clock = new ThreadClock();
  try {
    const cpu = clock.nowNs();
    const wall = process.hrtime.bigint();
    sleep(200);
    expect(Number(process.hrtime.bigint() - wall) / 1e6).toBeGreaterThanOrEqual(199);
    // A scheduler tick or two of bookkeeping around the sleep, far below the 200 ms slept.
    expect((clock.nowNs() - cpu) / 1e6).toBeLessThan(50);
  } finally {
    clock.close();
  }
});

test("a busy thread's clock moves with the work it does", () => {
  const clock = new ThreadClock();
  try {
    const cpu = clock.nowNs();
    const wall = process.hrtime.bigint();
    while (process.hrtime.bigint() - wall < 100_000_000n);
    // The kernel may count it only at scheduler ticks, and the thread may have waited for a CPU.
    expect((clock.nowNs() - cpu) / 1e6).toBeGreaterThan(50);
    expect((clock.nowNs() - cpu) / 1e6).toBeLessThan(120);
  } finally {
    clock.close();
  }
});
