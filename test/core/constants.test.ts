// The names TypeScript keeps (the SDK's layer kinds and fault classes, the addon's on_error and
// stage names) are the C core's, in the same order: the core is where they are defined and
// printed, so a name added or renamed there fails here until the TypeScript list follows. The
// WASM harness's default limits are checked against the sandbox's the same way.

import { WASM_DEFAULTS } from "../../policy/harness/wasm";
import { ON_ERROR_NAMES, STAGE_NAMES } from "../../policy/native";
import { FAULT_NAMES, LAYER_KINDS, layerName } from "../../policy/sdk/contract";
import { decide, native, withDir } from "./lib";

describe("the C core's names and the TypeScript lists agree", () => {
  const core = native.constants();

  test("layer kinds", () => expect(core.layers).toEqual([...LAYER_KINDS]));
  test("fault classes", () => expect(core.faults).toEqual([...FAULT_NAMES]));
  test("on_error values", () => expect(core.onError).toEqual([...ON_ERROR_NAMES]));
  test("session stages", () => expect(core.stages).toEqual([...STAGE_NAMES]));
  test("the WASM harness's default limits", () => expect(core.limits).toEqual(WASM_DEFAULTS));

  test("a group layer prints as group:NAME in both", () =>
    withDir((dir) => {
      const d = decide(dir, { site: "return null;", groups: { physics: 'return { env: "sl7" };' } });
      expect(d.decidedBy).toBe(layerName("group", "physics"));
      expect(decide(dir, { site: 'return { env: "sl7" };' }).decidedBy).toBe(layerName("site"));
    }));

  test("the default paths are the documented ones (README, pam_chos(8))", () => {
    expect(core.defaults).toEqual({ catalogue: "/etc/chos", policy: "/etc/chos.d/policy.js", root: "/chos" });
  });
});
