// The warm call: open() loads a policy once (chos_policy_open) and decide() evaluates it for
// one login after another (chos_policy_evaluate) on the code path decide() itself uses.
import * as path from "node:path";
import type { LoginContextInput } from "../../policy/native";
import { ALICE, native, type PolicySources, withDir, writeBundle, writeCatalogue } from "./lib";

const BOB: LoginContextInput = { ...ALICE, user: { ...ALICE.user, name: "bob", groups: ["bob", "chemistry"] } };

const POLICY: PolicySources = {
  site: 'if (ctx.service === "su") return { deny: "no su" }; return null;',
  groups: {
    physics: 'return { env: "sl7", reason: "physics" };',
    chemistry: 'return { env: "el9", reason: "chemistry" };',
  },
};

function open(dir: string, p: PolicySources | string, extra: { timeoutMs?: number } = {}) {
  return native.open({ bundle: writeBundle(dir, p), catalogue: writeCatalogue(dir), ...extra });
}

describe("warm call (open, decide, close)", () => {
  test("each warm decision equals the cold decide() of the same login", () =>
    withDir((dir) => {
      const policy = open(dir, POLICY);
      try {
        for (const context of [ALICE, BOB, { ...ALICE, service: "su" }, ALICE]) {
          const cold = native.decide({
            bundle: path.join(dir, "policy.js"),
            catalogue: path.join(dir, "chos"),
            context,
          });
          expect(policy.decide(context)).toEqual(cold);
        }
      } finally {
        policy.close();
      }
    }));

  test("each call has its own deadline: calls of 40 ms each under a 100 ms limit all decide", () =>
    withDir((dir) => {
      const policy = open(
        dir,
        { site: 'const end = Date.now() + 40; while (Date.now() < end) {} return { env: "sl7" };' },
        { timeoutMs: 100 },
      );
      try {
        for (let i = 0; i < 4; i++) expect(policy.decide(ALICE)).toMatchObject({ env: "sl7", decidedBy: "site" });
      } finally {
        policy.close();
      }
    }));

  test("after a timeout fault the runtime is discarded: later calls are load faults", () =>
    withDir((dir) => {
      const policy = open(
        dir,
        { site: 'if (ctx.user.name === "alice") for (;;) {} return { env: "el9" };' },
        { timeoutMs: 30 },
      );
      try {
        expect(policy.decide(ALICE).error).toMatchObject({
          fault: "timeout",
          message: "the policy ran longer than 30 ms",
        });
        expect(policy.decide(BOB).error).toEqual({
          fault: "load",
          message: "the policy runtime was discarded after a timeout fault; open the policy again",
        });
      } finally {
        policy.close();
      }
    }));

  test("a throw fault does not discard the runtime: the next login is decided", () =>
    withDir((dir) => {
      const policy = open(dir, {
        site: 'if (ctx.user.name === "alice") throw new Error("no"); return { env: "el9" };',
      });
      try {
        expect(policy.decide(ALICE).error).toMatchObject({ fault: "throw", message: "Error: no" });
        expect(policy.decide(BOB)).toMatchObject({ env: "el9", decidedBy: "site" });
      } finally {
        policy.close();
      }
    }));

  test("console lines are returned with the call that wrote them, loading's with the first", () =>
    withDir((dir) => {
      const policy = open(dir, {
        prelude: 'console.log("loaded");',
        site: 'console.log("for " + ctx.user.name); return null;',
      });
      try {
        expect(policy.decide(ALICE).logs).toEqual(["policy: loaded", "policy: for alice"]);
        expect(policy.decide(BOB).logs).toEqual(["policy: for bob"]);
      } finally {
        policy.close();
      }
    }));

  test("a bundle that does not load makes open() throw with the load fault", () =>
    withDir((dir) => {
      expect(() => open(dir, "globalThis.__chos = {};")).toThrow(
        `policy load: ${path.join(dir, "policy.js")} does not set globalThis.__chos.decide: build it with \`chos-policy build\``,
      );
    }));

  test("decide on a closed policy throws; close twice is harmless", () =>
    withDir((dir) => {
      const policy = open(dir, POLICY);
      policy.close();
      policy.close();
      expect(() => policy.decide(ALICE)).toThrow("decide: the policy is closed");
    }));
});
