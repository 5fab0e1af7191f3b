// Bytecode beside the bundle (pam/core/policy/policy_load.c): compile() writes BUNDLE.qbc, decide()
// uses it only while it matches the bundle, and bytecode and source decide identically, faults
// and positions included.
import * as fs from "node:fs";
import * as path from "node:path";
import { ALICE, bundleSource, native, type PolicySources, withDir, writeCatalogue, writeFile } from "./lib";
import { HEADER_SIZE, readPack } from "./pack";

const POLICIES: PolicySources[] = [
  { site: 'return ctx.host.name.startsWith("n") ? { env: "el9", reason: "compute node" } : null;' },
  { site: "return null;", groups: { physics: 'return { deny: "physics is closed" };' } },
  { site: 'if (ctx.user.groups.includes("physics")) throw new Error("boom"); return null;' },
  { site: 'return { env: "sl5" };' },
  { site: "const f = () => f(); return f();" },
  { site: "for (;;) {}" },
];

describe("bytecode", () => {
  test("compile writes BUNDLE.qbc, mode 0644, and decide() uses it", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const bundle = writeFile(path.join(dir, "policy.js"), bundleSource(POLICIES[0]));
      const { bytes } = native.compile(bundle);
      const st = fs.statSync(`${bundle}.qbc`);
      expect(st.size).toBe(bytes);
      expect(st.mode & 0o777).toBe(0o644);
      const d = native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true });
      expect(d).toMatchObject({ env: "el9", fromBytecode: true });
      expect(
        native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true, preferSource: true }).fromBytecode,
      ).toBe(false);
    }));

  test("bytecode and source give the same decision or fault, with the same positions", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const bundle = path.join(dir, "policy.js");
      for (const policy of POLICIES) {
        writeFile(bundle, bundleSource(policy));
        native.compile(bundle);
        const opts = { bundle, catalogue, context: ALICE, trustAnyOwner: true, timeoutMs: 30 };
        const fromSource = native.decide({ ...opts, preferSource: true });
        const fromBytecode = native.decide(opts);
        expect(fromBytecode.fromBytecode).toBe(true);
        expect({ ...fromBytecode, fromBytecode: false }).toEqual(fromSource);
      }
    }));

  test("stale bytecode (the bundle changed, even keeping its size and mtime) is ignored with a notice", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const bundle = writeFile(path.join(dir, "policy.js"), bundleSource({ site: 'return { env: "sl7" };' }));
      native.compile(bundle);
      const { mtime } = fs.statSync(bundle);
      writeFile(bundle, bundleSource({ site: 'return { env: "el9" };' }));
      fs.utimesSync(bundle, mtime, mtime);
      const d = native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true });
      expect(d).toMatchObject({ env: "el9", fromBytecode: false });
      expect(d.logs).toEqual([
        `${bundle}.qbc: stale or foreign (not built from this bundle by QuickJS 2025-04-26); using the source: run \`chos-policy build\``,
      ]);
    }));

  test("copying bundle and bytecode (new mtimes) keeps the bytecode fresh", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const built = writeFile(path.join(dir, "built.js"), bundleSource({ site: 'return { env: "sl7" };' }));
      native.compile(built);
      const bundle = path.join(dir, "policy.js");
      fs.copyFileSync(built, bundle);
      fs.copyFileSync(`${built}.qbc`, `${bundle}.qbc`);
      const past = new Date(2000, 0, 1);
      fs.utimesSync(bundle, past, past);
      expect(native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true })).toMatchObject({
        env: "sl7",
        fromBytecode: true,
        logs: [],
      });
    }));

  test("a truncated or foreign bytecode file is ignored", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const bundle = writeFile(path.join(dir, "policy.js"), bundleSource({ site: 'return { env: "sl7" };' }));
      writeFile(`${bundle}.qbc`, "CHOSPAK1 not really");
      expect(native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true })).toMatchObject({
        env: "sl7",
        fromBytecode: false,
      });
      native.compile(bundle);
      const qbc = fs.readFileSync(`${bundle}.qbc`);
      writeFile(`${bundle}.qbc`, qbc.subarray(0, qbc.length - 10));
      expect(native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true })).toMatchObject({
        env: "sl7",
        fromBytecode: false,
      });
    }));

  test("the pack binds each unit's source and bytecode by SHA-256, and one changed bytecode byte is refused as corrupt", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const bundle = writeFile(path.join(dir, "policy.js"), bundleSource({ site: 'return { env: "sl7" };' }));
      native.compile(bundle);
      const qbc = fs.readFileSync(`${bundle}.qbc`);
      const source = fs.readFileSync(bundle);
      const pack = readPack(qbc);
      // A hand-written bundle has no unit markers: it is all base unit, and no group units.
      expect(pack).toMatchObject({
        magic: "CHOSPAK1",
        quickjs: "2025-04-26",
        bundleSize: source.length,
        packSize: qbc.length,
        groups: 0,
        blocks: 0,
        units: [],
      });
      expect(pack.buildId).toBe(native.sha256(source));
      expect(pack.base).toMatchObject({
        group: "",
        sourceOffset: 0,
        sourceLength: source.length,
        line: 0,
        bytecodeOffset: HEADER_SIZE,
      });
      expect(pack.base.sourceSha256).toBe(native.sha256(source));
      expect(pack.base.bytecodeLength).toBe(qbc.length - HEADER_SIZE);
      expect(pack.base.bytecodeSha256).toBe(native.sha256(qbc.subarray(HEADER_SIZE)));
      expect(pack.topSha256).toBe(native.sha256(new Uint8Array()));
      expect(pack.headerSha256).toBe(native.sha256(qbc.subarray(0, HEADER_SIZE - 32)));
      const corrupt = Buffer.from(qbc);
      corrupt[qbc.length - 5] ^= 0x01;
      writeFile(`${bundle}.qbc`, corrupt);
      expect(native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true })).toMatchObject({
        env: "sl7",
        fromBytecode: false,
        logs: [
          `${bundle}.qbc: corrupt (a unit's bytecode does not match its SHA-256); using the source: run \`chos-policy build\``,
        ],
      });
    }));

  test("compile reports a syntax error as PATH:LINE:COLUMN", () =>
    withDir((dir) => {
      const bundle = writeFile(path.join(dir, "policy.js"), "let = ;");
      expect(() => native.compile(bundle)).toThrow(`${bundle}:1:7: SyntaxError: unexpected token in expression: ';'`);
      expect(fs.existsSync(`${bundle}.qbc`)).toBe(false);
    }));
});
