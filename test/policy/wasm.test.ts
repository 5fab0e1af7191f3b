// The WASM harness on its own: decisions, every engine fault class, console capture, and the
// pieces of the sandbox it must reproduce (no eval, limits, an uncatchable deadline).
import fs from "node:fs";
import path from "node:path";
import { bundlePolicy } from "../../policy/bundle/bundle";
import { BundleMap } from "../../policy/bundle/sourcemap";
import { type WasmOutcome, wasmDecide } from "../../policy/harness/wasm";
import { context, EXAMPLE, fullContext, NO_OPINION, withTemp, writePolicy } from "./lib/policy";

const ENVS = ["trixie", "tiny", "default"];

async function runWasm(
  dir: string,
  files: Record<string, string>,
  groups = ["physics"],
): Promise<WasmOutcome & { map: BundleMap }> {
  const built = await bundlePolicy(writePolicy(dir, files), path.join(dir, "out", "policy.js"));
  const outcome = await wasmDecide(fs.readFileSync(built.bundle, "utf8"), fullContext(context({ groups }), ENVS));
  return { ...outcome, map: BundleMap.load(built.bundle)! };
}

describe("WASM harness", () => {
  test("runs the example policy and stamps the deciding .ts line", () =>
    withTemp(async (dir) => {
      const built = await bundlePolicy(EXAMPLE, path.join(dir, "policy.js"));
      const ctx = fullContext({ ...context({ groups: ["legacy"] }), host: { name: "gpu01" } }, ENVS);
      const r = await wasmDecide(fs.readFileSync(built.bundle, "utf8"), ctx);
      expect(r).toMatchObject({
        env: null,
        deny: "the legacy tree has no GPU drivers: use a cpu node",
        decidedBy: "group:legacy",
        file: "policy.d/legacy.ts",
      });
      expect(BundleMap.load(built.bundle)!.position(r.line!, r.column!)).toMatchObject({
        file: "policy.d/legacy.ts",
        line: 6,
      });
    }));

  test("reports a throw with its file and bundle position", () =>
    withTemp(async (dir) => {
      const r = await runWasm(dir, {
        "index.ts": NO_OPINION,
        "policy.d/physics.ts": `export default () => {\n  throw new Error("boom");\n};\n`,
      });
      expect(r.error).toMatchObject({ fault: "throw", message: "Error: boom", file: "policy.d/physics.ts" });
      expect(r.map.position(r.error!.line!, r.error!.column!)).toMatchObject({ file: "policy.d/physics.ts", line: 2 });
    }));

  test("ends an infinite loop inside try/catch at the deadline", () =>
    withTemp(async (dir) => {
      const start = Date.now();
      const r = await runWasm(dir, {
        "index.ts": `export default () => { for (;;) { try { for (;;) {} } catch {} } };\n`,
      });
      expect(r.error).toMatchObject({ fault: "timeout", file: "index.ts" });
      expect(Date.now() - start).toBeLessThan(5000);
    }));

  test("stops a memory hog and runaway recursion", () =>
    withTemp(async (dir) => {
      const hog = await runWasm(dir, {
        "index.ts": `export default () => { let s = "x"; for (;;) s = s.repeat(2); };\n`,
      });
      expect(hog.error?.fault).toBe("memory");
      fs.rmSync(path.join(dir, "policy"), { recursive: true });
      const deep = await runWasm(dir, {
        "index.ts": `const f = (n: number): number => f(n + 1) + 1;\nexport default () => ({ env: String(f(0)) });\n`,
      });
      expect(deep.error?.fault).toBe("stack");
    }));

  test("reports a bundle that does not load as a load fault", async () => {
    const r = await wasmDecide("this is not javascript", fullContext(context(), ENVS));
    expect(r.error?.fault).toBe("load");
  });

  test("captures console output and lacks eval like the C sandbox", () =>
    withTemp(async (dir) => {
      const r = await runWasm(dir, {
        "index.ts": `export default () => {\n  console.log("hello", 42);\n  console.log(typeof eval, typeof Proxy, typeof Promise);\n  try { new Function("return 1"); return { env: "trixie", reason: "function worked" }; } catch (e) { return { env: "tiny", reason: String(e) }; }\n};\n`,
      });
      expect(r.logs).toEqual(["policy: hello 42", "policy: undefined undefined function"]);
      expect(r).toMatchObject({ env: "tiny", reason: "TypeError: eval is not supported" });
    }));
});
