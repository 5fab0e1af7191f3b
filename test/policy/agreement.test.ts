// Native vs WASM agreement: the same bundle, the same logins, the two engines reach the same
// outcome, for decisions and for every fault class. (The WASM side never validates: for shape
// and unlisted it must finish in the same file, where the C validator then rejects the value.)
import fs from "node:fs";
import path from "node:path";
import { bundlePolicy } from "../../policy/bundle/bundle";
import { disagreement } from "../../policy/cli/agree";
import { loadCases } from "../../policy/cli/cases";
import type { NativeDecision } from "../../policy/cli/engine";
import { runCases } from "../../policy/cli/test";
import type { WasmOutcome } from "../../policy/harness/wasm";
import { wasmDecide } from "../../policy/harness/wasm";
import { addon } from "../../policy/native";
import { context, EXAMPLE, exampleCatalogue, NO_OPINION, withTemp, writeCatalogue, writePolicy } from "./lib/policy";

const FAULTY: Record<string, string> = {
  throw: `export default () => { throw new TypeError("bad"); };\n`,
  timeout: `export default () => { let n = 0; while (n >= 0) n = (n + 1) % 7; return null; };\n`,
  memory: `export default () => { let s = "x"; for (;;) s = s.repeat(2); };\n`,
  stack: `const f = (n: number): number => f(n + 1) + 1;\nexport default () => ({ env: String(f(0)) });\n`,
  shape: `export default () => ({ env: "trixie", because: "extra key" });\n`,
  unlisted: `import { use } from "chos-policy/sdk";\nexport default () => use("sles9");\n`,
};

describe("native vs WASM agreement", () => {
  test("both engines agree on every case of the example policy", async () => {
    const report = await runCases(EXAMPLE, path.join(EXAMPLE, "cases.json"));
    expect(report.results.filter((r) => r.status !== "PASS")).toEqual([]);
    expect(report.total).toBe(14);
  });

  test("for valid decisions the two results are identical, field for field", () =>
    withTemp(async (dir) => {
      const built = await bundlePolicy(EXAMPLE, path.join(dir, "policy.js"));
      const source = fs.readFileSync(built.bundle, "utf8");
      const catalogue = exampleCatalogue();
      const environments = addon()
        .parseCatalogue(catalogue, { trustAnyOwner: true })
        .map((e) => e.name);
      for (const c of loadCases(path.join(EXAMPLE, "cases.json")).cases) {
        // The native login runs the base and its own groups' units; WASM runs the bundle whole.
        const { units: _units, ...native } = addon().decide({
          bundle: built.bundle,
          catalogue,
          context: c.context,
          trustAnyOwner: true,
          preferSource: true,
        });
        const { value: _value, ...wasm } = await wasmDecide(source, { ...c.context, environments });
        expect([c.name, wasm]).toEqual([c.name, native]);
      }
    }));

  test("both engines report the same class for every fault", () =>
    withTemp(async (dir) => {
      const files: Record<string, string> = { "index.ts": NO_OPINION };
      const users: Record<string, unknown> = {};
      for (const [fault, text] of Object.entries(FAULTY)) {
        files[`policy.d/${fault}.ts`] = text;
        users[`u${fault}`] = { uid: 3000, gid: 3000, groups: [fault] };
      }
      const policy = writePolicy(dir, files);
      writeCatalogue(dir, ["trixie", "default"]);
      const cases = Object.keys(FAULTY).map((fault) => ({ name: fault, user: `u${fault}`, expect: { fault } }));
      fs.writeFileSync(path.join(dir, "cases.json"), JSON.stringify({ catalogue: "chos.conf", users, cases }));
      const report = await runCases(policy, path.join(dir, "cases.json"));
      expect(report.results.map((r) => [r.name, r.status, r.fault])).toEqual(
        Object.keys(FAULTY).map((f) => [f, "PASS", f]),
      );
    }));

  // Hand-written bundles: what `chos-policy build` never makes, but a bundle file can hold.
  const RAW: [string, string, string | undefined][] = [
    ["a bundle that sets no __chos is a load fault", `var x = 1;`, "load"],
    ["a bundle that does not compile is a load fault", `var a = 1;\nglobalThis.__chos = {;`, "load"],
    ["a bundle whose top level throws is a throw", `throw new Error("at load");`, "throw"],
    ["a thrown non-Error is a throw", `globalThis.__chos = { decide() { throw { a: 1 }; } };`, "throw"],
    [
      "an async policy's Promise is a shape fault",
      `globalThis.__chos = { decide() { return { layer: "site", file: "index.ts", value: (async () => ({ env: "trixie" }))() }; } };`,
      "shape",
    ],
    [
      "a getter in a decision is never run (the C validator calls it a shape fault)",
      `globalThis.__chos = { decide() { return { layer: "site", file: "index.ts", value: { env: "trixie", get reason() { for (;;) {} } } }; } };`,
      "shape",
    ],
  ];

  test.each(RAW)("%s, in both engines", (_name, source, fault) =>
    withTemp(async (dir) => {
      const bundle = path.join(dir, "policy.js");
      fs.writeFileSync(bundle, source);
      const ctx = context();
      const native = addon().decide({
        bundle,
        catalogue: writeCatalogue(dir, ["trixie"]),
        context: ctx,
        trustAnyOwner: true,
      });
      const wasm = await wasmDecide(source, { ...ctx, environments: ["trixie"] });
      expect(native.error?.fault).toBe(fault);
      expect(disagreement(native, wasm)).toBeUndefined();
      // Engine faults are worded and placed alike too (only C knows the bundle's path).
      if (fault === "throw" || source.includes("{;")) expect(wasm.error).toEqual(native.error);
    }),
  );

  test("both engines log alike, including the line cut and the line cap", () =>
    withTemp(async (dir) => {
      const source = `globalThis.__chos = { decide() {
        console.warn("x".repeat(1200));
        for (let i = 0; i < 70; i++) console.log("line", i, { i }, [i]);
        return { layer: "host", value: null };
      } };`;
      const bundle = path.join(dir, "policy.js");
      fs.writeFileSync(bundle, source);
      const native = addon().decide({
        bundle,
        catalogue: writeCatalogue(dir, ["trixie"]),
        context: context(),
        trustAnyOwner: true,
      });
      const wasm = await wasmDecide(source, { ...context(), environments: ["trixie"] });
      expect(native.logs).toHaveLength(65);
      expect(wasm.logs).toEqual(native.logs);
    }));

  test("a different fault class or decision is a disagreement", () => {
    const native = {
      env: "tiny",
      reason: "r",
      decidedBy: "site",
      file: "index.ts",
      fromBytecode: true,
      units: 1,
      logs: [],
    } as NativeDecision;
    const same: WasmOutcome = {
      env: "tiny",
      reason: "r",
      decidedBy: "site",
      file: "index.ts",
      fromBytecode: false,
      logs: [],
    };
    expect(disagreement(native, same)).toBeUndefined();
    expect(disagreement(native, { ...same, env: "trixie" })).toBe(
      "engines disagree: native tiny by site, wasm trixie by site",
    );
    const timeout = {
      ...native,
      env: null,
      decidedBy: "fault",
      error: { fault: "timeout", message: "m" },
    } as NativeDecision;
    expect(disagreement(timeout, { ...same, env: null, error: { fault: "memory", message: "m" } })).toBe(
      "engines disagree: native timeout fault, wasm memory fault",
    );
    const shape = { ...timeout, error: { fault: "shape", message: "m", file: "index.ts" } } as NativeDecision;
    expect(disagreement(shape, same)).toBeUndefined();
    expect(disagreement(shape, { ...same, file: "policy.d/x.ts" })).toBe(
      "engines disagree: native shape fault, wasm tiny by site",
    );
  });
});
