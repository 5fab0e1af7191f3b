// The clock of the WASM harness's deadline: the CPU time of the thread running the engine, as
// the C sandbox counts its deadline (CLOCK_THREAD_CPUTIME_ID, policy_runtime.c), so a busy
// host does not turn a slow evaluation into a timeout in one engine only.
//
// Node 20 has no per-thread CPU clock, and process.cpuUsage() counts every thread: measured
// here, a fresh process spends about as much CPU on V8's background threads (compiling the WASM
// engine) as the policy does, which made a 100 ms deadline fire after 63 ms. The kernel's
// per-thread count, /proc/thread-self/schedstat (nanoseconds on the CPU), is the same clock
// the C side reads; the kernel may update it only at scheduler ticks (a few ms) while the
// thread runs. Where the file cannot be opened (not Linux, or a kernel without it), the clock
// falls back to the wall clock, and a busy host can then cut an evaluation off early.
import fs from "node:fs";

const SCHEDSTAT = "/proc/thread-self/schedstat";

export class ThreadClock {
  private readonly fd: number | undefined;
  private readonly buffer = Buffer.alloc(64);

  /** Opens the clock of the calling thread: it must be the thread that runs the engine. */
  constructor() {
    let fd: number | undefined;
    try {
      fd = fs.openSync(SCHEDSTAT, "r");
    } catch {
      fd = undefined;
    }
    this.fd = fd;
  }

  /** Whether this clock counts CPU time (false: it fell back to the wall clock). */
  get isCpuTime(): boolean {
    return this.fd !== undefined;
  }

  /** Nanoseconds: the thread's CPU time, or the monotonic wall clock when it fell back. */
  nowNs(): number {
    if (this.fd === undefined) return Number(process.hrtime.bigint());
    const n = fs.readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
    return Number(this.buffer.toString("latin1", 0, n).split(" ", 1)[0]);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
  }
}
