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
      const pad = out.length + ".qbc".length + 2;
      expect(r.stdout).toEqual([
        `bundle   ${out.padEnd(pad)}${kb(out).padStart(9)}`,
        `map      ${`${out}.map`.padEnd(pad)}${kb(`${out}.map`).padStart(9)}`,
        `bytecode ${`${out}.qbc`.padEnd(pad)}${kb(`${out}.qbc`).padStart(9)}`,
      ]);
      for (const file of [out, `${out}.map`, `${out}.qbc`]) expect(fs.statSync(file).mode & 0o777).toBe(0o644);
      const js = fs.readFileSync(out, "utf8");
      expect(js.startsWith("(() => {")).toBe(true);
      expect(js).toContain("globalThis.__chos = precedence(");
      const map = JSON.parse(fs.readFileSync(`${out}.map`, "utf8"));
      expect(map.sources).toEqual(
        expect.arrayContaining([
          "chos-policy/sdk/precedence.ts",
          "chos-policy/sdk/helpers.ts",
          "index.ts",
          "policy.d/admins.ts",
          "policy.d/chemistry.ts",
          "policy.d/legacy.ts",
          "policy.d/physics.ts",
        ]),
      );
      expect(map.sourcesContent).toHaveLength(map.sources.length);
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
