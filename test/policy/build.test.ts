// `chos-policy build` and the bundler: sizes reported, an IIFE that installs __chos, a source
// map naming the policy's own files, bytecode beside it, and errors at their .ts line.
import fs from "node:fs";
import path from "node:path";
import { bufferOutput } from "../../policy/cli/io";
import { run } from "../../policy/cli/main";
import { EXAMPLE, NO_OPINION, withTemp, writePolicy } from "./lib/policy";

async function cli(...argv: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const io = bufferOutput();
  const code = await run(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("chos-policy build", () => {
  test("writes the bundle, its map and bytecode, and reports their sizes", () =>
    withTemp(async (dir) => {
      const out = path.join(dir, "etc", "policy.js");
      const umask = process.umask(0o002);
      const r = await cli("build", EXAMPLE, "-o", out).finally(() => process.umask(umask));
      expect(r.code).toBe(0);
      const kb = (file: string): string => `${(fs.statSync(file).size / 1024).toFixed(1)} KB`;
      const pad = Math.max(out.length + ".qbc".length, "unit: the SDK, lib/ and index.ts".length) + 2;
      expect(r.stdout.slice(0, 3)).toEqual([
        `bundle   ${out.padEnd(pad)}${kb(out).padStart(9)}`,
        `map      ${`${out}.map`.padEnd(pad)}${kb(`${out}.map`).padStart(9)}`,
        `bytecode ${`${out}.qbc`.padEnd(pad)}${kb(`${out}.qbc`).padStart(9)}`,
      ]);
      // The unit sizes: the base every login loads, the group units, the largest one.
      const js = fs.readFileSync(out, "utf8");
      const units = js.split(/^(?=\/\/ chos:unit )/m);
      const size = (n: number): string => `${(n / 1024).toFixed(1)} KB`.padStart(9);
      const bytes = (s: string): number => Buffer.byteLength(s);
      const groups = units.slice(1).map(bytes);
      expect(r.stdout.slice(3)).toEqual([
        `base     ${"unit: the SDK, lib/ and index.ts".padEnd(pad)}${size(bytes(units[0]))}`,
        `groups   ${"4 units, one per group file".padEnd(pad)}${size(groups.reduce((a, b) => a + b))}`,
        expect.stringMatching(/^largest {2}unit: policy\.d\/[a-z]+\.ts +[0-9.]+ KB$/),
      ]);
      for (const file of [out, `${out}.map`, `${out}.qbc`]) expect(fs.statSync(file).mode & 0o777).toBe(0o644);
      expect(js.startsWith("(() => {")).toBe(true);
      expect(js).toContain("globalThis.__chos = chos;");
      // An index map: one section per unit, the base's naming the SDK and the site entry,
      // each group's its own file only.
      const map = JSON.parse(fs.readFileSync(`${out}.map`, "utf8"));
      expect(map.sections).toHaveLength(units.length);
      expect(map.sections[0].map.sources).toEqual(
        expect.arrayContaining(["chos-policy/sdk/precedence.ts", "chos-policy/sdk/helpers.ts", "index.ts"]),
      );
      expect(map.sections.slice(1).map((s: { map: { sources: string[] } }) => s.map.sources)).toEqual([
        ["policy.d/admins.ts"],
        ["policy.d/chemistry.ts"],
        ["policy.d/legacy.ts"],
        ["policy.d/physics.ts"],
      ]);
      for (const s of map.sections) expect(s.map.sourcesContent).toHaveLength(s.map.sources.length);
    }));

  test("a syntax error or missing import is reported at its .ts line", () =>
    withTemp(async (dir) => {
      const policy = writePolicy(dir, {
        "index.ts": NO_OPINION,
        "policy.d/physics.ts": `import { nope } from "./nowhere";\nexport default () => {\n  return nope(;\n};\n`,
      });
      const r = await cli("build", policy, "-o", path.join(dir, "policy.js"));
      expect(r.code).toBe(1);
      expect(r.stderr).toEqual([
        `chos-policy build: bundling ${policy} failed:`,
        `policy.d/physics.ts:3:15: Unexpected ";"`,
      ]);
    }));

  test("a group name chos cannot look up, or a line that would start a unit, is refused by file", () =>
    withTemp(async (dir) => {
      const long = "g".repeat(65);
      const policy = writePolicy(dir, { "index.ts": NO_OPINION, [`policy.d/${long}.ts`]: NO_OPINION });
      expect((await cli("build", policy, "-o", path.join(dir, "p.js"))).stderr).toEqual([
        `chos-policy build: policy.d/${long}.ts: "${long}" is longer than 64 characters, the longest name chos reads`,
      ]);
      const marker = writePolicy(path.join(dir, "m"), {
        "index.ts": NO_OPINION,
        "policy.d/physics.ts":
          "export default () => {\n  const s = `x\n// chos:unit zz\n`;\n  return s ? null : null;\n};\n",
      });
      expect((await cli("build", marker, "-o", path.join(dir, "m.js"))).stderr).toEqual([
        'chos-policy build: policy.d/physics.ts: a line may not start with "// chos:unit " (it marks where a unit starts)',
      ]);
    }));

  test("a directory without index.ts or with a bad group file name says what to fix", () =>
    withTemp(async (dir) => {
      expect((await cli("build", dir)).stderr).toEqual([
        `chos-policy build: ${dir}: not a policy directory (no index.ts; it must export default (ctx) => Decision)`,
      ]);
      const policy = writePolicy(dir, { "index.ts": NO_OPINION, "policy.d/bad name.ts": NO_OPINION });
      expect((await cli("build", policy, "-o", path.join(dir, "p.js"))).stderr).toEqual([
        'chos-policy build: policy.d/bad name.ts: "bad name" is not a group name (use [A-Za-z0-9._-])',
      ]);
    }));
});
