// `chos-policy test`: the example's cases pass on both engines; failures are reported like OPA
// (FAIL apart from ERROR, PASS: n/total, --json, exit 1), engine disagreement is an ERROR, and
// files and decision sites no case exercised are named.
import fs from "node:fs";
import path from "node:path";
import { bufferOutput } from "../../policy/cli/io";
import { run } from "../../policy/cli/main";
import { EXAMPLE, NO_OPINION, withTemp, writeCatalogue, writePolicy } from "./lib/policy";

async function cli(...argv: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const io = bufferOutput();
  const code = await run(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const SDK = `import { use, deny } from "chos-policy/sdk";\n`;

function writeCases(dir: string, cases: unknown[]): string {
  const file = path.join(dir, "cases.json");
  writeCatalogue(dir, ["trixie", "tiny", "default"]);
  fs.writeFileSync(
    file,
    JSON.stringify({
      catalogue: "chos.conf",
      defaults: { host: "n01" },
      users: {
        alice: { uid: 2001, gid: 2001, groups: ["physics"] },
        bob: { uid: 2002, gid: 2002, groups: ["chemistry"] },
      },
      cases,
    }),
  );
  return file;
}

describe("chos-policy test", () => {
  test("the example policy passes every case on the native and the WASM engine", async () => {
    const r = await cli("test", EXAMPLE);
    expect(r).toEqual({ code: 0, stdout: ["-".repeat(72), "PASS: 14/14"], stderr: [] });
    const verbose = await cli("test", EXAMPLE, "--verbose");
    expect(verbose.stdout[0]).toBe("PASS  physics gets trixie by default (trixie by group:physics)");
    expect(verbose.stdout).toHaveLength(16);
  });

  test("reports FAIL apart from ERROR, the summary, unexercised files and sites, and exits 1", () =>
    withTemp(async (dir) => {
      const policy = writePolicy(dir, {
        "index.ts": NO_OPINION,
        "policy.d/physics.ts": `${SDK}export default () =>\n  use("trixie", "physics");\n`,
        "policy.d/chemistry.ts": `${SDK}export default () => {\n  throw new Error("chemistry is broken");\n};\n`,
        "policy.d/legacy.ts": `${SDK}export default () =>\n  deny("never");\n`,
      });
      const cases = writeCases(dir, [
        { name: "alice gets trixie", user: "alice", expect: { env: "trixie", decidedBy: "group:physics" } },
        { name: "alice gets tiny", user: "alice", expect: { env: "tiny" } },
        { name: "bob gets tiny", user: "bob", expect: { env: "tiny" } },
        { name: "bob's file faults", user: "bob", expect: { fault: "throw" } },
      ]);
      const r = await cli("test", policy, cases);
      expect(r.stdout).toEqual([
        "FAIL  alice gets tiny",
        "      env: got trixie, want tiny (at policy.d/physics.ts:3)",
        "ERROR bob gets tiny",
        "      throw fault in policy.d/chemistry.ts:3: Error: chemistry is broken",
        "-".repeat(72),
        "PASS: 2/4",
        "FAIL: 1/4",
        "ERROR: 1/4",
        "not exercised: index.ts (no case was decided there)",
        "not exercised: policy.d/chemistry.ts (no case was decided there)",
        "not exercised: policy.d/legacy.ts (no case was decided there)",
        "not exercised: policy.d/legacy.ts:3 deny(...) (no case's decision came from this call)",
      ]);
      expect(r.code).toBe(1);

      const json = JSON.parse((await cli("test", policy, cases, "--json")).stdout.join("\n"));
      expect(Object.keys(json)).toEqual([
        "total",
        "pass",
        "fail",
        "error",
        "results",
        "filesNotExercised",
        "sitesNotExercised",
      ]);
      expect(json).toMatchObject({ total: 4, pass: 2, fail: 1, error: 1 });
      expect(json.results[1]).toEqual({
        name: "alice gets tiny",
        status: "FAIL",
        message: "env: got trixie, want tiny (at policy.d/physics.ts:3)",
        env: "trixie",
        decidedBy: "group:physics",
        at: "policy.d/physics.ts:3",
      });
      expect(json.sitesNotExercised).toEqual(["policy.d/legacy.ts:3 deny(...)"]);
    }));

  test("an engine disagreement is an ERROR naming both outcomes", () =>
    withTemp(async (dir) => {
      // The `v` regexp flag is newer than the C engine's QuickJS (its literal throws there) and
      // no prelude can hide syntax from the WASM engine.
      const policy = writePolicy(dir, {
        "index.ts": `${SDK}export default () => (/[a]/v.test("a") ? use("tiny") : null);\n`,
      });
      const cases = writeCases(dir, [{ name: "alice", user: "alice", expect: { env: "tiny" } }]);
      const r = await cli("test", policy, cases);
      expect(r.stdout.slice(0, 2)).toEqual([
        "ERROR alice",
        "      engines disagree: native throw fault, wasm tiny by site",
      ]);
      expect(r.code).toBe(1);
    }));

  test("a bad cases file is rejected with the key and the file named", () =>
    withTemp(async (dir) => {
      const policy = writePolicy(dir, { "index.ts": NO_OPINION });
      const cases = writeCases(dir, [{ name: "typo", user: "alice", expect: { evn: "tiny" } }]);
      const r = await cli("test", policy, cases);
      expect(r.stderr).toEqual([
        `chos-policy test: ${cases}: cases[0].expect: unknown key "evn" (allowed: env, deny, decidedBy, fault)`,
      ]);
      expect(r.code).toBe(1);
    }));
});
