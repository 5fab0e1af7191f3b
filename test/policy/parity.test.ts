// Parity of the two engines: after the prelude, the WASM context offers a policy exactly the
// globals and built-in properties the C sandbox offers (measured in both through lib/surface.ts),
// apart from the C engine's two internal leftovers the prelude cannot add.
import fs from "node:fs";
import path from "node:path";
import { WasmSession } from "../../policy/harness/wasm";
import { addon } from "../../policy/native";
import { context, withTemp, writeCatalogue } from "./lib/policy";
import { SURFACE_EXPRESSION } from "./lib/surface";

// Console lines are capped at 1000 bytes by the C sandbox: print the surface in chunks.
const PROBE = `globalThis.__chos = { current: undefined, decide() {
  const text = ${SURFACE_EXPRESSION}.join(" ");
  for (let i = 0; i < text.length; i += 900) console.log(text.slice(i, i + 900));
  return { layer: "host", value: null };
} };`;

function surface(logs: readonly string[]): string[] {
  return logs
    .map((l) => l.replace(/^policy: /, ""))
    .join("")
    .split(" ");
}

describe("engine parity", () => {
  test("the WASM context offers what the C sandbox offers, after the prelude", () =>
    withTemp(async (dir) => {
      const bundle = path.join(dir, "probe.js");
      fs.writeFileSync(bundle, PROBE);
      const native = addon().decide({
        bundle,
        catalogue: writeCatalogue(dir, ["trixie"]),
        context: context(),
        trustAnyOwner: true,
      });
      expect(native.error).toBeUndefined();
      const { session, error } = await WasmSession.open(PROBE);
      try {
        expect(error).toBeUndefined();
        session.call({ ...context(), environments: ["trixie"] });
        const c = surface(native.logs);
        const wasm = surface(session.logs);
        expect(c.length).toBeGreaterThan(500);
        expect(wasm.filter((name) => !c.includes(name))).toEqual([]);
        expect(c.filter((name) => !wasm.includes(name))).toEqual(["Object.__getClass", "String.prototype.__quote"]);
      } finally {
        session.close();
      }
    }));

  test("eval and the Function constructor fail the same way in both engines", () =>
    withTemp(async (dir) => {
      const source = `globalThis.__chos = { current: undefined, decide() {
        let f; try { f = new Function("return 1"); } catch (e) { f = String(e); }
        let g; try { g = Object.getPrototypeOf(function* () {}).constructor("yield 1"); } catch (e) { g = String(e); }
        console.log(typeof eval, f, g);
        return { layer: "host", value: null };
      } };`;
      const bundle = path.join(dir, "eval.js");
      fs.writeFileSync(bundle, source);
      const native = addon().decide({
        bundle,
        catalogue: writeCatalogue(dir, ["trixie"]),
        context: context(),
        trustAnyOwner: true,
      });
      const { session } = await WasmSession.open(source);
      try {
        session.call({ ...context(), environments: ["trixie"] });
        expect(native.logs).toEqual([
          "policy: undefined TypeError: eval is not supported TypeError: eval is not supported",
        ]);
        expect(session.logs).toEqual(native.logs);
      } finally {
        session.close();
      }
    }));
});
