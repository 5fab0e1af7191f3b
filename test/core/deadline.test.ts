// The policy deadline counts the CPU time the evaluation itself uses, not the wall clock: a
// login storm that leaves the policy a fifth of a CPU must not turn a 30 ms policy into a
// timeout fault (and so into every user's on_error outcome), while a loop still ends.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { ALICE, decide, withDir, writeBundle, writeCatalogue } from "./lib";

const ADDON = path.resolve(__dirname, "../../dist/native/chos_addon.node");

/** A policy that does `n` loop iterations of work and then has no opinion. */
const work = (n: number) => ({ site: `let x = 0; for (let i = 0; i < ${n}; i++) x = (x + i) | 0; return null;` });

/** Iterations that take about `ms` of CPU here, found uncontended (wall time ≈ CPU time then). */
function calibrate(dir: string, ms: number): number {
  for (let n = 100_000; ; n *= 2) {
    const start = process.hrtime.bigint();
    decide(dir, work(n), { timeoutMs: 10_000 });
    if (Number(process.hrtime.bigint() - start) / 1e6 >= ms) return n;
  }
}

test("a policy sharing one CPU with four busy processes is not cut off by the wall clock", () =>
  withDir((dir) => {
    const n = calibrate(dir, 30);
    const bundle = writeBundle(dir, work(n));
    const catalogue = writeCatalogue(dir);
    const opts = JSON.stringify({ bundle, catalogue, context: ALICE, timeoutMs: 100 });
    const script = `const a = require(${JSON.stringify(ADDON)}); const t = Date.now();
      const d = a.decide(${opts}); console.log(JSON.stringify({ fault: d.error?.fault ?? null, ms: Date.now() - t }));`;
    // Four CPU hogs pinned to the CPU the evaluation runs on: it gets about a fifth of it.
    const hogs: ChildProcess[] = [];
    try {
      for (let i = 0; i < 4; i++) hogs.push(spawn("taskset", ["-c", "0", "sh", "-c", "while :; do :; done"]));
      const r = spawnSync("taskset", ["-c", "0", process.execPath, "-e", script], { encoding: "utf8" });
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as { fault: string | null; ms: number };
      expect(out.ms).toBeGreaterThan(100); // the wall clock did pass the deadline...
      expect(out.fault).toBeNull(); // ...and the policy still decided
    } finally {
      for (const h of hogs) h.kill("SIGKILL");
    }
  }));

test("a busy loop still ends at the deadline counted in CPU time", () =>
  withDir((dir) => {
    const d = decide(dir, { site: "for (;;) {}" }, { timeoutMs: 50 });
    expect(d.error?.fault).toBe("timeout");
  }));
