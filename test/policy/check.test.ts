// `chos-policy check`: type errors point at the .ts line (exit 1); environment names the
// catalogue does not list and group files for groups this host lacks are warnings (exit 0).
import { bufferOutput } from "../../policy/cli/io";
import { run } from "../../policy/cli/main";
import { EXAMPLE, exampleCatalogue, NO_OPINION, withTemp, writeCatalogue, writePolicy } from "./lib/policy";

async function cli(...argv: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const io = bufferOutput();
  const code = await run(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const SDK = `import { use, type Decision, type LoginContext } from "chos-policy/sdk";\n`;

describe("chos-policy check", () => {
  test("the example policy type-checks", async () => {
    const r = await cli("check", EXAMPLE, "--catalogue", exampleCatalogue(), "--trust-any-owner");
    // The example's groups exist only while the system tiers' test users do.
    const stderr = r.stderr.filter((l) => !/warning: group "\w+" does not exist/.test(l));
    expect({ code: r.code, stderr }).toEqual({ code: 0, stderr: [] });
  });

  test("a type error points at its .ts line and exits 1", () =>
    withTemp(async (dir) => {
      const policy = writePolicy(dir, {
        "index.ts": NO_OPINION,
        "policy.d/root.ts": `${SDK}export default (ctx: LoginContext): Decision =>\n  ctx.user.uid === 0 ? { env: 42 } : null;\n`,
      });
      const r = await cli("check", policy, "--catalogue", writeCatalogue(dir, ["trixie"]), "--trust-any-owner");
      expect(r.stderr).toEqual([
        "policy.d/root.ts:3:26: error TS2322: Type 'number' is not assignable to type 'string'.",
      ]);
      expect(r.stdout).toEqual([`${policy}: 1 error, 0 warnings`]);
      expect(r.code).toBe(1);
    }));

  test("a default export that is not a policy function is an error on its file", () =>
    withTemp(async (dir) => {
      const policy = writePolicy(dir, { "index.ts": `export default "trixie";\n` });
      const r = await cli("check", policy, "--catalogue", writeCatalogue(dir, ["trixie"]), "--trust-any-owner");
      expect(r.stderr).toEqual([
        "index.ts:1:1: error TS2322: the default export must be a PolicyFunction ((ctx: LoginContext) => Decision): Type 'string' is not assignable to type 'PolicyFunction'.",
      ]);
      expect(r.code).toBe(1);
    }));

  test("Node's globals are not there: policies run in QuickJS", () =>
    withTemp(async (dir) => {
      const policy = writePolicy(dir, { "index.ts": `export default () => (process.env.CHOS ? null : null);\n` });
      const r = await cli("check", policy, "--catalogue", writeCatalogue(dir, ["trixie"]), "--trust-any-owner");
      expect(r.stderr[0]).toMatch(/^index\.ts:1:23: error TS2591: Cannot find name 'process'/);
      expect(r.code).toBe(1);
    }));

  test("warns about unlisted environment names and groups this host lacks, exit 0", () =>
    withTemp(async (dir) => {
      const policy = writePolicy(dir, {
        "index.ts": `${SDK}export default (ctx: LoginContext): Decision =>\n  ctx.host.name === "x" ? use("sles9") : { env: "trixie" };\n`,
        "policy.d/root.ts": `import { honourRequest } from "chos-policy/sdk";\nexport default (ctx: Parameters<typeof honourRequest>[0]) =>\n  honourRequest(ctx, ["tiny", "centos7"]);\n`,
        "policy.d/chos-no-such-group.ts": NO_OPINION,
      });
      const r = await cli("check", policy, "--catalogue", writeCatalogue(dir, ["trixie", "tiny"]), "--trust-any-owner");
      const catalogue = `${dir}/chos.conf`;
      expect(r.stderr).toEqual([
        `index.ts:3: warning: environment "sles9" is not listed in ${catalogue}`,
        `policy.d/root.ts:3: warning: environment "centos7" is not listed in ${catalogue}`,
        'policy.d/chos-no-such-group.ts: warning: group "chos-no-such-group" does not exist on this host: the file applies to nobody here',
      ]);
      expect(r.stdout).toEqual([`${policy}: 0 errors, 3 warnings`]);
      expect(r.code).toBe(0);
    }));
});
