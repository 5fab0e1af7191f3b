// Issue #10: a login loads only the base unit and its own groups' units. These tests prove the
// per-group evaluation (from the pack, and from the source split into units) decides exactly as
// the bundle run whole (native wholeBundle, and the WASM harness) on the example site and on a
// generated site of 5,000 group files, faults and positions included, and that a login runs
// exactly the base and the units of its groups that have a file.
import fs from "node:fs";
import path from "node:path";
import { bundlePolicy } from "../../policy/bundle/bundle";
import { disagreement } from "../../policy/cli/agree";
import { loadCases } from "../../policy/cli/cases";
import { wasmDecide } from "../../policy/harness/wasm";
import { addon, type DecideOptions, type Decision, type LoginContextInput } from "../../policy/native";
import { groupName, KINDS, writeGeneratedSite } from "./lib/generated-site";
import { context, EXAMPLE, exampleCatalogue, withTemp } from "./lib/policy";

/** What must not depend on how the units were loaded. */
function outcome(d: Decision): Omit<Decision, "units" | "fromBytecode"> {
  const { units: _units, fromBytecode: _fromBytecode, ...rest } = d;
  return rest;
}

/** The units a login of these groups runs: the base and one per distinct group with a file. */
function expectedUnits(groups: readonly string[], hasFile: (group: string) => boolean): number {
  return 1 + new Set(groups.filter(hasFile)).size;
}

/** mulberry32: a seeded sequence, the same on every machine. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

describe("per-group evaluation agrees with the whole bundle", () => {
  test("on the example site: every case and group combination, pack, source, whole and WASM alike", () =>
    withTemp(async (dir) => {
      const built = await bundlePolicy(EXAMPLE, path.join(dir, "policy.js"));
      addon().compile(built.bundle);
      const source = fs.readFileSync(built.bundle, "utf8");
      const catalogue = exampleCatalogue();
      const environments = addon()
        .parseCatalogue(catalogue, { trustAnyOwner: true })
        .map((e) => e.name);
      const files = new Set(built.policy.groups.map((g) => g.group));
      const contexts: LoginContextInput[] = loadCases(path.join(EXAMPLE, "cases.json")).cases.map((c) => c.context);
      const groups = [...files, "nobody"];
      for (const a of groups)
        for (const b of groups)
          for (const host of ["n01", "gpu07", "build02"])
            for (const requested of [null, { env: "tiny", from: "env" as const }])
              contexts.push(context({ groups: [a, b], host: { name: host }, requested }));
      for (const ctx of contexts) {
        const base = { bundle: built.bundle, catalogue, context: ctx, trustAnyOwner: true };
        const packed = addon().decide(base);
        const fromSource = addon().decide({ ...base, preferSource: true });
        const whole = addon().decide({ ...base, wholeBundle: true });
        expect(packed).toMatchObject({
          fromBytecode: true,
          logs: [],
          units: expectedUnits(ctx.user.groups, (g) => files.has(g)),
        });
        expect(fromSource.units).toBe(packed.units);
        expect(whole.units).toBe(1);
        expect([ctx, outcome(packed)]).toEqual([ctx, outcome(whole)]);
        expect([ctx, outcome(fromSource)]).toEqual([ctx, outcome(whole)]);
        const { value: _value, ...wasm } = await wasmDecide(source, { ...ctx, environments });
        expect([ctx, wasm]).toEqual([ctx, { ...outcome(packed), fromBytecode: false }]);
      }
    }));

  test("a group file importing lib/ shares one module instance with the site entry", () =>
    withTemp(async (dir) => {
      const site = path.join(dir, "site");
      fs.mkdirSync(path.join(site, "policy.d"), { recursive: true });
      fs.mkdirSync(path.join(site, "lib"), { recursive: true });
      // The site entry records every login in the shared module; a group file reads it back.
      fs.writeFileSync(
        path.join(site, "lib", "seen.ts"),
        `export const seen: string[] = [];\nexport default function note(who: string): void { seen.push(who); }\n`,
      );
      fs.writeFileSync(
        path.join(site, "index.ts"),
        `import note from "./lib/seen";\nexport default (ctx: { user: { name: string } }) => { note(ctx.user.name); return null; };\n`,
      );
      fs.writeFileSync(
        path.join(site, "policy.d", "physics.ts"),
        `import { use } from "chos-policy/sdk";\nimport { seen } from "../lib/seen.ts";\nexport default () => use("trixie", \`seen \${seen.join(",")}\`);\n`,
      );
      const built = await bundlePolicy(site, path.join(dir, "out", "policy.js"));
      addon().compile(built.bundle);
      const js = fs.readFileSync(built.bundle, "utf8");
      expect(js.match(/export const seen|var seen = \[\]/g)).toHaveLength(1); // in the base only
      const catalogue = path.join(dir, "chos.conf");
      fs.writeFileSync(catalogue, "%SHELLS\ntrixie:/srv/trixie\n");
      for (const extra of [{}, { preferSource: true }, { wholeBundle: true }]) {
        const d = addon().decide({
          bundle: built.bundle,
          catalogue,
          context: context(),
          trustAnyOwner: true,
          ...extra,
        });
        expect(d).toMatchObject({ env: "trixie", reason: "seen alice", decidedBy: "group:physics" });
      }
    }));
});

describe("a group file's top level", () => {
  test("runs only for its members: a throw there faults their logins, and the warm runtime is discarded", () =>
    withTemp(async (dir) => {
      const site = path.join(dir, "site");
      fs.mkdirSync(path.join(site, "policy.d"), { recursive: true });
      fs.writeFileSync(path.join(site, "index.ts"), "export default () => null;\n");
      fs.writeFileSync(
        path.join(site, "policy.d", "broken.ts"),
        'throw new Error("broken at load");\nexport default () => null;\n',
      );
      fs.writeFileSync(
        path.join(site, "policy.d", "physics.ts"),
        'import { use } from "chos-policy/sdk";\nexport default () => use("trixie");\n',
      );
      const built = await bundlePolicy(site, path.join(dir, "out", "policy.js"));
      addon().compile(built.bundle);
      const catalogue = path.join(dir, "chos.conf");
      fs.writeFileSync(catalogue, "%SHELLS\ntrixie:/srv/trixie\n");
      const options = { bundle: built.bundle, catalogue, trustAnyOwner: true };
      const member = context({ groups: ["broken", "physics"] });
      const other = context({ groups: ["physics"] });
      for (const extra of [{}, { preferSource: true }]) {
        expect(addon().decide({ ...options, ...extra, context: member }).error).toMatchObject({
          fault: "throw",
          message: "Error: broken at load",
          file: "policy.d/broken.ts",
          line: expect.any(Number),
        });
        expect(addon().decide({ ...options, ...extra, context: other })).toMatchObject({
          env: "trixie",
          decidedBy: "group:physics",
          units: 2,
        });
      }
      // Run whole, every group file's top level runs, so it faults for everyone.
      expect(addon().decide({ ...options, wholeBundle: true, context: other }).error).toMatchObject({
        fault: "throw",
        file: "policy.d/broken.ts",
      });
      const warm = addon().open(options);
      try {
        expect(warm.decide(member).error).toMatchObject({ fault: "throw", file: "policy.d/broken.ts" });
        expect(warm.decide(other).error).toMatchObject({
          fault: "load",
          message: expect.stringContaining("discarded after a throw fault"),
        });
      } finally {
        warm.close();
      }
    }));
});

describe("a generated site of 5,000 group files", () => {
  const GROUPS = 5000;
  let dir: string;
  let bundle: string;
  let catalogue: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync("/var/lib/chos-test-units-");
    writeGeneratedSite(path.join(dir, "site"), GROUPS);
    bundle = (await bundlePolicy(path.join(dir, "site"), path.join(dir, "out", "policy.js"))).bundle;
    addon().compile(bundle);
    catalogue = path.join(dir, "site", "chos.conf");
  }, 300000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Logins over every kind of group file, with groups that have no file, from a seeded PRNG. */
  function logins(count: number, seed: number): LoginContextInput[] {
    const below = prng(seed);
    const hosts = ["n01", "gpu3", "build7"];
    return Array.from({ length: count }, (_, i) => {
      const groups = Array.from({ length: 1 + below(4) }, () =>
        below(10) === 0 ? `nofile${below(3)}` : groupName(below(GROUPS)),
      );
      // Some logins land on a kind-0 group's own nodes ("n<i>-<k>*").
      const own = groups.find((g) => g.startsWith("g") && Number(g.slice(1)) % KINDS === 0);
      const host = own && i % 3 === 0 ? `n${Number(own.slice(1))}-1x` : hosts[below(hosts.length)];
      const requested = [null, { env: "tiny", from: "file" as const }, { env: "trixie", from: "env" as const }][
        below(3)
      ];
      return context({ groups, host: { name: host }, requested, service: below(5) === 0 ? "su" : "sshd" });
    });
  }

  test("1,000 logins: from the pack, from the source and whole, the same decision or fault; only their own units load", () => {
    // Run whole, the bundle is several MB: it needs more than a login's memory and time.
    const whole = addon().open({
      bundle,
      catalogue,
      trustAnyOwner: true,
      wholeBundle: true,
      memoryBytes: 1 << 30,
      timeoutMs: 60000,
    });
    const packed = addon().open({ bundle, catalogue, trustAnyOwner: true });
    try {
      const kinds = new Set<string>();
      for (const ctx of logins(1000, 0x5ca1e)) {
        const options: DecideOptions = { bundle, catalogue, context: ctx, trustAnyOwner: true };
        const fromPack = addon().decide(options);
        const fromSource = addon().decide({ ...options, preferSource: true });
        const wholeDecision = whole.decide(ctx);
        const hasFile = (g: string) => g.startsWith("g");
        expect(fromPack).toMatchObject({
          fromBytecode: true,
          logs: [],
          units: expectedUnits(ctx.user.groups, hasFile),
        });
        expect(fromSource.units).toBe(fromPack.units);
        expect([ctx, outcome(fromPack)]).toEqual([ctx, outcome(wholeDecision)]);
        expect([ctx, outcome(fromSource)]).toEqual([ctx, outcome(wholeDecision)]);
        // The warm API loads each user's units once and keeps them: the same decision.
        expect([ctx, outcome(packed.decide(ctx))]).toEqual([ctx, outcome(fromPack)]);
        kinds.add(fromPack.error ? `fault:${fromPack.error.fault}` : fromPack.decidedBy.split(":")[0]);
      }
      // Every path was taken: each layer, a throw in a group file, a bad shape.
      expect([...kinds].sort()).toEqual(["default", "fault:shape", "fault:throw", "group", "request", "site"]);
    } finally {
      whole.close();
      packed.close();
    }
  });

  test("the WASM harness, running the bundle whole, agrees with the native per-group login", async () => {
    const source = fs.readFileSync(bundle, "utf8");
    const environments = ["trixie", "tiny", "default"];
    for (const ctx of logins(12, 0xa9ee)) {
      const native = addon().decide({ bundle, catalogue, context: ctx, trustAnyOwner: true });
      const wasm = await wasmDecide(source, { ...ctx, environments }, { memoryBytes: 256 << 20, timeoutMs: 60000 });
      expect([ctx, disagreement(native, wasm)]).toEqual([ctx, undefined]);
    }
  });
});
