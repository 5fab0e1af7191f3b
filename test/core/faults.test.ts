// Every policy fault class, through the addon: the C sandbox reports it (class, message, file,
// bundle position) and never turns it into a decision, and every one of them ends.

import * as path from "node:path";
import { ALICE, decide, native, withDir, writeBundle, writeCatalogue } from "./lib";

describe("policy faults", () => {
  test("a throw in the site entry is a throw fault naming index.ts and the bundle line", () =>
    withDir((dir) => {
      const d = decide(dir, { site: 'throw new TypeError("no rule for " + ctx.user.name);' });
      expect(d.env).toBeNull();
      expect(d.decidedBy).toBe("fault");
      expect(d.error).toEqual({
        fault: "throw",
        message: "TypeError: no rule for alice",
        file: "index.ts",
        line: 4,
        column: 20,
      });
    }));

  test("a throw in a group file names that group file", () =>
    withDir((dir) => {
      const d = decide(dir, { site: "return null;", groups: { physics: "return ctx.nothing.here;" } });
      expect(d.error?.fault).toBe("throw");
      expect(d.error?.file).toBe("policy.d/physics.ts");
      expect(d.error?.message).toBe("TypeError: cannot read property 'here' of undefined");
    }));

  test("throwing a non-Error value is a throw fault", () =>
    withDir((dir) => {
      expect(decide(dir, { site: 'throw "plain";' }).error?.message).toBe("threw plain");
      expect(decide(dir, { site: "throw { code: 1 };" }).error?.message).toBe("threw a value that is not an Error");
    }));

  test("an infinite loop inside try/catch loops still ends, as a timeout fault", () =>
    withDir((dir) => {
      const start = Date.now();
      const d = decide(dir, { site: "for (;;) { try { for (;;) {} } catch (e) {} }" }, { timeoutMs: 50 });
      expect(Date.now() - start).toBeLessThan(5000);
      expect(d.error).toMatchObject({
        fault: "timeout",
        message: "the policy ran longer than 50 ms",
        file: "index.ts",
      });
    }));

  test("a loop in the bundle's top level is a timeout fault too", () =>
    withDir((dir) => {
      const d = decide(dir, { site: "return null;", prelude: "while (true) {}" }, { timeoutMs: 30 });
      expect(d.error?.fault).toBe("timeout");
    }));

  test("a catastrophic regular expression is stopped by the deadline", () =>
    withDir((dir) => {
      const d = decide(dir, { site: 'return /^(a+)+$/.test("a".repeat(40) + "b") ? null : null;' }, { timeoutMs: 50 });
      expect(d.error?.fault).toBe("timeout");
    }));

  test("a memory hog is a memory fault, even when it catches the error", () =>
    withDir((dir) => {
      const hog = "const a = []; for (;;) a.push(new Array(100000).fill(ctx.user.name));";
      expect(decide(dir, { site: hog }, { memoryBytes: 8 << 20 }).error).toMatchObject({
        fault: "memory",
        message: "the policy used more than 8388608 bytes of memory",
        file: "index.ts",
      });
      const catching = `const a = []; try { for (;;) a.push("x".repeat(1 << 20)); } catch (e) {} throw new Error("after");`;
      // Caught, the array is dropped and the policy goes on: what it finally did is the fault.
      expect(decide(dir, { site: catching }, { memoryBytes: 8 << 20 }).error?.message).toBe("Error: after");
    }));

  test("a string bomb in one builtin call is a memory fault", () =>
    withDir((dir) => {
      expect(decide(dir, { site: 'return { env: "x".repeat(1 << 28) };' }).error?.fault).toBe("memory");
    }));

  test("deep recursion is a stack fault", () =>
    withDir((dir) => {
      const d = decide(dir, { site: "const f = (n) => f(n + 1) + 1; return f(0);" });
      expect(d.error).toMatchObject({
        fault: "stack",
        message: "the policy overflowed its 262144-byte stack",
        file: "index.ts",
      });
    }));

  test("an unknown key in a decision is a shape fault naming the key", () =>
    withDir((dir) => {
      const d = decide(dir, { site: 'return { env: "sl7", reasn: "typo" };' });
      expect(d.error).toEqual({
        fault: "shape",
        message: 'unknown key "reasn" in a decision { env, reason? }',
        file: "index.ts",
      });
      expect(decide(dir, { site: 'return { deny: "no", reason: "r" };' }).error?.message).toBe(
        'unknown key "reason" in a decision { deny }',
      );
      expect(decide(dir, { site: 'return { env: "sl7", [Symbol("s")]: 1 };' }).error?.message).toBe(
        'unknown symbol key "s" in a decision { env, reason? }',
      );
    }));

  test("wrong shapes are shape faults with a message saying what was wrong", () =>
    withDir((dir) => {
      const cases: [string, string][] = [
        ['return "sl7";', "a decision is { env, reason? }, { deny } or null, got a string"],
        ['return ["sl7"];', "a decision is { env, reason? }, { deny } or null, got an array"],
        ["return () => 1;", "a decision is { env, reason? }, { deny } or null, got a function"],
        ["return {};", "a decision needs `env` or `deny` (or return null for no opinion)"],
        ['return { env: "sl7", deny: "x" };', "a decision has either `env` or `deny`, not both"],
        ["return { env: 7 };", "`env` must be a string, got a number"],
        ['return { env: "sl7", reason: 5 };', "`reason` must be a string, got a number"],
        ["return { deny: null };", "`deny` must be a string, got null"],
        ['return { get env() { return "sl7"; } };', "`env` is a getter; return a plain object"],
        [
          'return { env: "sl7" + "x".repeat(100) };',
          expect.stringMatching(/^`env` is too long: "sl7x+\.\.\."$/) as unknown as string,
        ],
      ];
      for (const [site, message] of cases) {
        expect({ site, error: decide(dir, { site }).error }).toEqual({
          site,
          error: { fault: "shape", message, file: "index.ts" },
        });
      }
    }));

  test("a getter on a decision is never called", () =>
    withDir((dir) => {
      const d = decide(dir, { site: "return { get env() { for (;;) {} } };" }, { timeoutMs: 50 });
      expect(d.error?.fault).toBe("shape");
    }));

  test("an environment the catalogue does not list is an unlisted fault", () =>
    withDir((dir) => {
      const d = decide(dir, { site: "return null;", groups: { physics: 'return { env: "sl5" };' } });
      expect(d.error).toEqual({
        fault: "unlisted",
        message: 'environment "sl5" is not listed in the catalogue',
        file: "policy.d/physics.ts",
      });
      expect(decide(dir, { site: 'return { env: "../etc\\n" };' }).error?.message).toBe(
        'environment "../etc?" is not listed in the catalogue',
      );
      expect(decide(dir, { site: 'return { env: "sl7\\u0000x" };' }).error?.fault).toBe("unlisted");
    }));

  test("a fault carries the position of the SDK helpers' __at", () =>
    withDir((dir) => {
      const site = 'const d = { env: "nope" }; Object.defineProperty(d, "__at", { value: "12:34" }); return d;';
      expect(decide(dir, { site }).error).toEqual({
        fault: "unlisted",
        message: 'environment "nope" is not listed in the catalogue',
        file: "index.ts",
        line: 12,
        column: 34,
      });
    }));

  test("a syntax error, a missing bundle and a bundle without __chos are load faults", () =>
    withDir((dir) => {
      expect(decide(dir, "let x = ;").error).toEqual({
        fault: "load",
        message: "SyntaxError: unexpected token in expression: ';'",
        line: 1,
        column: 9,
      });
      expect(decide(dir, "globalThis.x = 1;").error).toEqual({
        fault: "load",
        message: `${path.join(dir, "policy.js")} does not set globalThis.__chos.decide: build it with \`chos-policy build\``,
      });
      const missing = path.join(dir, "none.js");
      expect(native.decide({ bundle: missing, catalogue: writeCatalogue(dir), context: ALICE }).error).toEqual({
        fault: "load",
        message: `${missing}: No such file or directory`,
      });
    }));

  test("a throw while the bundle loads is a throw fault", () =>
    withDir((dir) => {
      const d = decide(dir, { site: "return null;", prelude: 'throw new RangeError("at load");' });
      expect(d.error?.fault).toBe("throw");
      expect(d.error?.message).toBe("RangeError: at load");
    }));

  test("the envelope from __chos.decide is checked too", () =>
    withDir((dir) => {
      writeBundle(dir, 'globalThis.__chos = { decide() { return { layer: "boss", value: null }; } };');
      const d = native.decide({ bundle: path.join(dir, "policy.js"), catalogue: writeCatalogue(dir), context: ALICE });
      expect(d.error).toEqual({ fault: "shape", message: 'the result of __chos.decide has unknown layer "boss"' });
    }));
});
