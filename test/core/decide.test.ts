// chos_policy_decide end to end through the addon: each layer of the precedence as the bundle
// reports it, denials, reasons and positions.
import { ALICE, decide, withDir, writeCatalogue } from "./lib";

describe("decide", () => {
  test("the site entry decides first", () =>
    withDir((dir) => {
      expect(
        decide(dir, {
          site: 'return { env: "el9", reason: "site rule" };',
          groups: { physics: 'return { env: "sl7" };' },
        }),
      ).toEqual({
        env: "el9",
        reason: "site rule",
        decidedBy: "site",
        file: "index.ts",
        fromBytecode: false,
        units: 1,
        logs: [],
      });
    }));

  test("group files decide in the user's group order, printed as group:NAME", () =>
    withDir((dir) => {
      const d = decide(dir, {
        site: "return null;",
        groups: { physics: 'return { env: "sl7" };', alice: "return undefined;" },
      });
      expect(d).toMatchObject({ env: "sl7", reason: "", decidedBy: "group:physics", file: "policy.d/physics.ts" });
    }));

  test("a listed request, then the catalogue's default, then the host", () =>
    withDir((dir) => {
      const requested = { env: "el9", from: "file" as const };
      expect(decide(dir, { site: "return null;" }, { context: { ...ALICE, requested } })).toMatchObject({
        env: "el9",
        decidedBy: "request",
      });
      expect(decide(dir, { site: "return null;" })).toMatchObject({ env: "default", decidedBy: "default" });
      writeCatalogue(dir, "%SHELLS\nsl7:/os/sl7\n");
      expect(decide(dir, { site: "return null;" })).toEqual({
        env: null,
        reason: "",
        decidedBy: "host",
        fromBytecode: false,
        units: 1,
        logs: [],
      });
    }));

  test("a denial carries its text", () =>
    withDir((dir) => {
      expect(decide(dir, { site: 'return { deny: "no logins on n12 today" };' })).toMatchObject({
        env: null,
        deny: "no logins on n12 today",
        reason: "no logins on n12 today",
        decidedBy: "site",
      });
    }));

  test("a decision's __at gives its bundle position", () =>
    withDir((dir) => {
      const site =
        'const d = { env: "sl7" }; Object.defineProperty(d, "__at", { value: "7:3", enumerable: false }); return d;';
      expect(decide(dir, { site })).toMatchObject({ env: "sl7", line: 7, column: 3 });
    }));

  test("a long reason is cut at 256 bytes without splitting a character", () =>
    withDir((dir) => {
      const d = decide(dir, { site: 'return { env: "sl7", reason: "a" + "é".repeat(300) };' });
      expect(d.reason).toBe(`a${"é".repeat(127)}`);
    }));

  test("strings from the login reach the policy intact (JSON escaping)", () =>
    withDir((dir) => {
      const name = 'we"ird\\name\n\t\u0001é😀';
      const context = { ...ALICE, user: { ...ALICE.user, name, groups: [name] } };
      const d = decide(
        dir,
        { site: "return { env: \"sl7\", reason: ctx.user.name + '|' + ctx.user.groups[0] };" },
        { context },
      );
      expect(d.reason).toBe(`${name}|${name}`);
    }));

  test("a Slurm step's job facts and a --chos request reach the policy as the contract says", () =>
    withDir((dir) => {
      const job = { id: 42, step: "batch", partition: "gpu", account: null, node: "n1", submitHost: 'lo"gin' };
      const context = { ...ALICE, service: "slurm", job, requested: { env: "el9", from: "option" as const } };
      const d = decide(
        dir,
        { site: 'return { env: "sl7", reason: JSON.stringify([ctx.job, ctx.requested]) };' },
        { context },
      );
      expect(JSON.parse(d.reason)).toEqual([job, { env: "el9", from: "option" }]);
      // A login has no job key at all, as the contract's `job?`.
      const login = decide(dir, { site: 'return { env: "sl7", reason: String("job" in ctx) };' });
      expect(login.reason).toBe("false");
    }));

  test("bad job input is a TypeError naming the field or the key", () =>
    withDir((dir) => {
      const job = { id: 1, step: "0", partition: null, account: null, node: "n1", submitHost: null };
      const bad = (j: unknown) => () =>
        decide(dir, { site: "return null;" }, { context: { ...ALICE, job: j as typeof job } });
      expect(bad({ ...job, queue: "x" })).toThrow('context.job: unknown key "queue"');
      expect(bad({ ...job, id: -1 })).toThrow("context.job.id must be an integer from 0 to 2^32-1");
      expect(bad({ ...job, node: null })).toThrow("context.job.node must be a string");
      expect(bad("n1")).toThrow("context.job must be an object when present");
    }));

  test("bad context input is a TypeError naming the field", () =>
    withDir((dir) => {
      expect(() =>
        decide(dir, { site: "return null;" }, { context: { ...ALICE, user: { ...ALICE.user, uid: -1 } } }),
      ).toThrow("context.user.uid must be an integer from 0 to 2^32-1");
      expect(() => decide(dir, { site: "return null;" }, { timeoutMs: 0.5 })).toThrow(
        "timeoutMs must be an integer from 1 to 2^32-1",
      );
      const requested = { env: "../x", from: "env" as const };
      expect(() => decide(dir, { site: "return null;" }, { context: { ...ALICE, requested } })).toThrow(
        "context.requested.env is not a valid environment name",
      );
    }));
});
