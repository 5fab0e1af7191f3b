// A login's policy loads on a helper thread while the login's facts are gathered, then decides
// on the caller's thread (pam/core/policy/policy_opening.c). What the load did must read exactly
// as if the caller had done it: its console lines in the caller's log, after the facts' own; its
// faults the session's policy faults; the stack limit measured on the caller's stack; and the
// CPU time it spent counted against the first evaluation's deadline, as chos_policy_decide
// counts it. Each case goes through sessionDecide, the session pam_chos runs.
import * as path from "node:path";
import type { SessionDecision } from "../../policy/native";
import { native, type PolicySources, withDir, writeBundle, writeCatalogue } from "./lib";

function session(dir: string, p: PolicySources, request?: { processEnv: string }): SessionDecision {
  return native.sessionDecide({
    user: "nobody",
    service: "sshd",
    catalogue: writeCatalogue(dir),
    policy: writeBundle(dir, p),
    request,
  });
}

/** Top-level statements doing `n` loop iterations of work. */
const work = (n: number) => `let x = 0; for (let i = 0; i < ${n}; i++) x = (x + i) | 0;`;

const timedOut = (d: SessionDecision) => d.failed === "policy" && d.fault === "timeout";

/** The iterations of `work` that spend the whole deadline (100 ms of CPU) at load: found by the
 * deadline itself, so a busy machine, which stretches the wall clock, does not move it. */
function budget(dir: string): number {
  let lo = 0;
  let hi = 100_000;
  while (!timedOut(session(dir, { prelude: work(hi), site: "return null;" }))) [lo, hi] = [hi, hi * 2];
  while (hi - lo > hi / 16) {
    const mid = Math.floor((lo + hi) / 2);
    if (timedOut(session(dir, { prelude: work(mid), site: "return null;" }))) hi = mid;
    else lo = mid;
  }
  return hi;
}

test("the top level's console lines reach the log after the facts' own, in order", () =>
  withDir((dir) => {
    const d = session(
      dir,
      {
        prelude: 'console.log("loaded"); console.log("still loading");',
        site: 'console.log("deciding"); return null;',
      },
      { processEnv: "../etc" },
    );
    expect(d.failed).toBe("none");
    expect(d.logs).toHaveLength(4);
    expect(d.logs[0]).toContain("../etc"); // the request's line, written while the policy loaded
    expect(d.logs.slice(1)).toEqual(["policy: loaded", "policy: still loading", "policy: deciding"]);
  }));

test("a session that needs no policy (root's) writes none of its lines, and decides alike", () =>
  withDir((dir) => {
    const policy = writeBundle(dir, { prelude: 'console.log("loaded");', site: "return null;" });
    const d = native.sessionDecide({ user: "root", service: "sshd", catalogue: writeCatalogue(dir), policy });
    expect(d).toMatchObject({ outcome: "host", failed: "none", logs: [] });
    expect(d.reason).toBe("root stays on the host (allow_root is not set)");
  }));

test.each([
  ["throw", 'throw new Error("at load");', /^policy throw: .*at load/],
  ["timeout", "for (;;) {}", /^policy timeout: /],
  ["stack", "const f = (n) => f(n + 1) + 1; f(0);", /^policy stack: /],
])("a %s at load is the session's policy fault", (fault, prelude, error) =>
  withDir((dir) => {
    const d = session(dir, { prelude, site: "return null;" });
    expect(d).toMatchObject({ failed: "policy", fault, outcome: "host" });
    expect(d.error).toMatch(error);
  }),
);

test("a recursion in decide meets the stack limit on the caller's stack, not a crash", () =>
  withDir((dir) => {
    const d = session(dir, { site: "const f = (n) => f(n + 1) + 1; return f(0);" });
    expect(d).toMatchObject({ failed: "policy", fault: "stack" });
  }));

test("the load's CPU time counts against the first evaluation's deadline", () =>
  withDir((dir) => {
    const n = Math.floor(budget(dir) * 0.7);
    // 0.7 of the budget at load and 0.7 in decide: over it only when the two share one deadline.
    expect(timedOut(session(dir, { prelude: work(n), site: `${work(n)} return null;` }))).toBe(true);
    // Half as much each: within it, so the deadline carried over is not cut short either.
    const half = Math.floor(n / 2);
    const d = session(dir, { prelude: work(half), site: `${work(half)} return { env: "el9", reason: "in time" };` });
    expect(d).toMatchObject({ failed: "none", env: "el9" });
    expect(path.isAbsolute(d.path ?? "")).toBe(true);
  }));
