// The sandbox a policy runs in (pam/core/policy/policy_runtime.c): what a raw context offers and what
// it leaves out, escapes that must fail, and console output reaching the log sink.
import { ALICE, decide, withDir } from "./lib";

/** Runs an expression in the site entry and returns it as the decision's reason. */
function evaluate(expr: string): string {
  return withDir((dir) => {
    const d = decide(dir, { site: `return { env: "sl7", reason: String(${expr}) };` });
    if (d.error) throw new Error(`${d.error.fault}: ${d.error.message}`);
    return d.reason;
  });
}

describe("policy sandbox", () => {
  test("a raw context has no eval, no std/os modules, no Proxy, typed arrays or WeakRef", () => {
    expect(evaluate("typeof eval")).toBe("undefined");
    expect(evaluate("typeof std")).toBe("undefined");
    expect(evaluate("typeof os")).toBe("undefined");
    expect(evaluate("typeof require")).toBe("undefined");
    expect(evaluate("typeof scriptArgs")).toBe("undefined");
    expect(evaluate("[typeof Proxy, typeof Uint8Array, typeof WeakRef, typeof FinalizationRegistry].join()")).toBe(
      "undefined,undefined,undefined,undefined",
    );
  });

  test("new Function and indirect eval through the Function constructor throw", () =>
    withDir((dir) => {
      expect(decide(dir, { site: 'return new Function("return 1")();' }).error?.message).toBe(
        "TypeError: eval is not supported",
      );
      expect(decide(dir, { site: 'return (() => {}).constructor("return 1")();' }).error?.message).toBe(
        "TypeError: eval is not supported",
      );
      expect(decide(dir, { site: 'return eval("1");' }).error?.message).toBe("ReferenceError: 'eval' is not defined");
    }));

  test("what policies need is there: JSON, RegExp, Map/Set, Date, Math, String.normalize", () => {
    expect(evaluate('JSON.stringify({ a: [1, "b"] })')).toBe('{"a":[1,"b"]}');
    expect(evaluate('/^n(\\d+)$/.exec("n12")[1]')).toBe("12");
    expect(evaluate('new Map([["a", 1]]).get("a") + new Set([1, 1]).size')).toBe("2");
    expect(evaluate("typeof Date.now()")).toBe("number");
    expect(evaluate("Math.max(1, 2)")).toBe("2");
    expect(evaluate('"e\\u0301".normalize("NFC").length')).toBe("1");
  });

  test("the context is the LoginContext with environments from the catalogue", () => {
    expect(evaluate("JSON.stringify(ctx)")).toBe(JSON.stringify({ ...ALICE, environments: ["default", "sl7", "el9"] }));
  });

  test("an async policy is a shape fault (policies are synchronous)", () =>
    withDir((dir) => {
      const d = decide(dir, { site: 'return (async () => ({ env: "sl7" }))();' });
      expect(d.error).toEqual({
        fault: "shape",
        message: "a decision is { env, reason? }, { deny } or null, got a Promise (policies are synchronous: no async)",
        file: "index.ts",
      });
    }));

  test("console.log, info, warn and error reach logs, one line each, objects as JSON", () =>
    withDir((dir) => {
      const d = decide(dir, {
        site: 'console.log("hello", ctx.user.name, 42); console.warn({ a: [1] }); console.error("two\\nlines"); return null;',
      });
      expect(d.logs).toEqual(["policy: hello alice 42", 'policy: {"a":[1]}', "policy: two?lines"]);
    }));

  test("console output is capped per evaluation", () =>
    withDir((dir) => {
      const d = decide(dir, { site: 'for (let i = 0; i < 1000; i++) console.log("x" + i); return null;' });
      expect(d.logs).toHaveLength(65);
      expect(d.logs[63]).toBe("policy: x63");
      expect(d.logs[64]).toBe("policy: more than 64 console lines; the rest is dropped");
    }));

  test("a toString that loops inside console.log is stopped by the deadline", () =>
    withDir((dir) => {
      const d = decide(dir, { site: "console.log({ toJSON() { for (;;) {} } }); return null;" }, { timeoutMs: 50 });
      expect(d.error?.fault).toBe("timeout");
    }));

  test("globals a policy changes do not survive into the next evaluation", () =>
    withDir((dir) => {
      const site = 'globalThis.n = (globalThis.n || 0) + 1; return { env: "sl7", reason: String(globalThis.n) };';
      expect(decide(dir, { site }).reason).toBe("1");
      expect(decide(dir, { site }).reason).toBe("1");
    }));
});
