// Every layer of the precedence, through the real bundler and the native engine (the PAM
// module's C code): site entry, group files in the user's group order, request, default, host.
import path from "node:path";
import { bundlePolicy } from "../../policy/bundle/bundle";
import { BundleMap } from "../../policy/bundle/sourcemap";
import { addon, type Decision, type LoginContextInput } from "../../policy/native";
import { context, NO_OPINION, withTemp, writeCatalogue, writePolicy } from "./lib/policy";

const SDK = `import { use, deny, honourRequest } from "chos-policy/sdk";\n`;

async function decide(
  dir: string,
  files: Record<string, string>,
  ctx: LoginContextInput,
  envs = ["trixie", "tiny", "default"],
): Promise<Decision & { at?: string }> {
  const built = await bundlePolicy(writePolicy(dir, files), path.join(dir, "out", "policy.js"));
  const d = addon().decide({
    bundle: built.bundle,
    catalogue: writeCatalogue(dir, envs),
    context: ctx,
    trustAnyOwner: true,
    preferSource: true,
  });
  const pos = d.line ? BundleMap.load(built.bundle)?.position(d.line, d.column ?? 1) : undefined;
  return { ...d, ...(pos ? { at: `${pos.file}:${pos.line}` } : {}) };
}

const GROUPS = {
  "policy.d/physics.ts": `${SDK}export default () => use("trixie", "physics");\n`,
  "policy.d/chemistry.ts": `${SDK}export default () => use("tiny", "chemistry");\n`,
  "policy.d/quiet.ts": `export default () => undefined;\n`,
  "policy.d/admins.ts": `export default () => { throw new Error("admins' file ran for a non-member"); };\n`,
};

describe("precedence", () => {
  test("the site entry decides first, at its .ts line", () =>
    withTemp(async (dir) => {
      const d = await decide(
        dir,
        { ...GROUPS, "index.ts": `${SDK}\nexport default () => use("tiny", "site rule");\n` },
        context(),
      );
      expect(d).toMatchObject({
        env: "tiny",
        reason: "site rule",
        decidedBy: "site",
        file: "index.ts",
        at: "index.ts:3",
      });
    }));

  test("with no site opinion, the group files decide in the user's group order", () =>
    withTemp(async (dir) => {
      const files = { ...GROUPS, "index.ts": NO_OPINION };
      const first = await decide(dir, files, context({ groups: ["chemistry", "physics"] }));
      expect(first).toMatchObject({
        env: "tiny",
        decidedBy: "group:chemistry",
        file: "policy.d/chemistry.ts",
        at: "policy.d/chemistry.ts:2",
      });
      const second = await decide(dir, files, context({ groups: ["physics", "chemistry"] }));
      expect(second).toMatchObject({ env: "trixie", decidedBy: "group:physics", at: "policy.d/physics.ts:2" });
    }));

  test("a group file with no opinion passes to the user's next group, and non-members' files never run", () =>
    withTemp(async (dir) => {
      const d = await decide(
        dir,
        { ...GROUPS, "index.ts": NO_OPINION },
        context({ groups: ["quiet", "users", "physics"] }),
      );
      expect(d).toMatchObject({ env: "trixie", decidedBy: "group:physics" });
      expect(d.error).toBeUndefined();
    }));

  test("a policy cannot change the facts later layers see", () =>
    withTemp(async (dir) => {
      const site = `export default (ctx: { user: { groups: string[] } }) => {\n  try { ctx.user.groups.unshift("chemistry"); } catch {}\n  return null;\n};\n`;
      const d = await decide(dir, { ...GROUPS, "index.ts": site }, context({ groups: ["physics"] }));
      expect(d).toMatchObject({ env: "trixie", decidedBy: "group:physics" });
    }));

  test("then the user's request, when the catalogue lists it", () =>
    withTemp(async (dir) => {
      const d = await decide(
        dir,
        { "index.ts": NO_OPINION },
        context({ groups: ["users"], requested: { env: "tiny", from: "file" } }),
      );
      expect(d).toMatchObject({ env: "tiny", decidedBy: "request", reason: "requested in ~/.chos" });
      expect(d.file).toBeUndefined();
    }));

  test("an unlisted request falls to the catalogue's default", () =>
    withTemp(async (dir) => {
      const d = await decide(
        dir,
        { "index.ts": NO_OPINION },
        context({ groups: ["users"], requested: { env: "sles9", from: "env" } }),
      );
      expect(d).toMatchObject({ env: "default", decidedBy: "default", reason: "the catalogue's default" });
    }));

  test("without a default, nobody chose: the host", () =>
    withTemp(async (dir) => {
      const d = await decide(dir, { "index.ts": NO_OPINION }, context({ groups: ["users"] }), ["trixie", "tiny"]);
      expect(d).toMatchObject({ env: null, decidedBy: "host" });
      expect(d.error).toBeUndefined();
      expect(d.deny).toBeUndefined();
    }));

  test("a denial from a group file is a decision with its reason and line", () =>
    withTemp(async (dir) => {
      const legacy = `${SDK}export default () =>\n  deny("no legacy logins today");\n`;
      const d = await decide(
        dir,
        { "index.ts": NO_OPINION, "policy.d/legacy.ts": legacy },
        context({ groups: ["legacy"] }),
      );
      expect(d).toMatchObject({
        env: null,
        deny: "no legacy logins today",
        decidedBy: "group:legacy",
        at: "policy.d/legacy.ts:3",
      });
    }));

  test("bytecode and source give the same decision", () =>
    withTemp(async (dir) => {
      const built = await bundlePolicy(
        writePolicy(dir, { ...GROUPS, "index.ts": NO_OPINION }),
        path.join(dir, "out", "policy.js"),
      );
      addon().compile(built.bundle);
      const opts = {
        bundle: built.bundle,
        catalogue: writeCatalogue(dir, ["trixie", "tiny"]),
        context: context({ groups: ["chemistry"] }),
        trustAnyOwner: true,
      };
      const fromBytecode = addon().decide(opts);
      const fromSource = addon().decide({ ...opts, preferSource: true });
      expect(fromBytecode.fromBytecode).toBe(true);
      expect(fromSource.fromBytecode).toBe(false);
      expect({ ...fromBytecode, fromBytecode: false }).toEqual(fromSource);
    }));
});
