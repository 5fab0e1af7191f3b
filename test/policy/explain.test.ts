// `chos-policy explain`: the text and --json reports of a decision, and every policy fault
// class reported as a fault (class, mapped .ts line, exit 1), never as a decision.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { bufferOutput } from "../../policy/cli/io";
import { run } from "../../policy/cli/main";
import { EXAMPLE, exampleCatalogue, NO_OPINION, withTemp, writeCatalogue, writePolicy } from "./lib/policy";

const CATALOGUE = exampleCatalogue();
function carol(groups = "legacy"): string[] {
  return [
    "--user",
    "carol",
    "--uid",
    "2003",
    "--gid",
    "2003",
    "--groups",
    groups,
    "--home",
    "/home/carol",
    "--shell",
    "/bin/sh",
  ];
}

async function cli(...argv: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const io = bufferOutput();
  const code = await run(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("chos-policy explain", () => {
  test("--service slurm --partition explains a job step with the job's facts", async () => {
    const r = await cli(
      "explain",
      EXAMPLE,
      "--catalogue",
      CATALOGUE,
      ...carol(),
      "--host",
      "n01",
      "--service",
      "slurm",
      "--job-id",
      "42",
      "--partition",
      "gpu",
      "--trust-any-owner",
    );
    expect(r).toEqual({
      code: 0,
      stdout: [
        "carol on n01 (slurm, job 42 step 0 in gpu): denied",
        "  reason     the legacy tree has no GPU drivers: use the batch partition",
        "  decidedBy  group:legacy",
        "  source     policy.d/legacy.ts:7",
        "  loaded     source",
      ],
      stderr: [],
    });
  });

  test("a job flag without --service slurm is refused, saying what to add", async () => {
    const r = await cli("explain", EXAMPLE, "--catalogue", CATALOGUE, ...carol(), "--partition", "gpu");
    expect(r.code).not.toBe(0);
    expect(r.stderr.join("\n")).toContain("explain: --partition describes a Slurm step: add --service slurm");
  });

  test("prints the decision, its reason, layer and .ts line", async () => {
    const r = await cli(
      "explain",
      EXAMPLE,
      "--catalogue",
      CATALOGUE,
      ...carol(),
      "--host",
      "gpu07",
      "--service",
      "su",
      "--trust-any-owner",
    );
    expect(r).toEqual({
      code: 0,
      stdout: [
        "carol on gpu07 (su): denied",
        "  reason     the legacy tree has no GPU drivers: use a cpu node",
        "  decidedBy  group:legacy",
        "  source     policy.d/legacy.ts:6",
        "  loaded     source",
      ],
      stderr: [],
    });
  });

  test("--json prints one object with exactly the documented fields", async () => {
    const r = await cli(
      "explain",
      EXAMPLE,
      "--catalogue",
      CATALOGUE,
      ...carol("physics"),
      "--host",
      "n01",
      "--requested",
      "tiny",
      "--json",
      "--trust-any-owner",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.join("\n"))).toEqual({
      user: "carol",
      host: "n01",
      service: "sshd",
      env: "tiny",
      reason: "requested in $CHOS",
      decidedBy: "group:physics",
      file: "policy.d/physics.ts",
      line: 6,
      fromBytecode: false,
      logs: [],
    });
  });

  test("explains a built bundle from its bytecode, and layers without a file", () =>
    withTemp(async (dir) => {
      const out = path.join(dir, "policy.js");
      expect((await cli("build", EXAMPLE, "-o", out)).code).toBe(0);
      const r = await cli(
        "explain",
        out,
        "--catalogue",
        CATALOGUE,
        ...carol("users"),
        "--host",
        "n01",
        "--json",
        "--trust-any-owner",
      );
      expect(JSON.parse(r.stdout.join("\n"))).toMatchObject({
        env: "default",
        decidedBy: "default",
        file: null,
        line: null,
        fromBytecode: true,
      });
    }));

  test("a BUNDLE is judged as a login would: in a group-writable directory it is a load fault naming it", () =>
    withTemp(async (dir) => {
      const open = path.join(dir, "chos.d");
      fs.mkdirSync(open);
      fs.chmodSync(open, 0o775);
      const out = path.join(open, "policy.js");
      expect((await cli("build", EXAMPLE, "-o", out)).code).toBe(0);
      const r = await cli("explain", out, "--catalogue", CATALOGUE, ...carol("users"), "--trust-any-owner");
      expect(r).toEqual({
        code: 1,
        stdout: [],
        stderr: [`error: load: ${open}: writable by group, mode 0775 (not trusted)`],
      });
    }));

  test("shows what the policy logged, before the decision", () =>
    withTemp(async (dir) => {
      const policy = writePolicy(dir, {
        "index.ts": `export default (ctx: { user: { name: string } }) => {\n  console.log("deciding for", ctx.user.name, { n: 1 });\n  return null;\n};\n`,
      });
      const r = await cli(
        "explain",
        policy,
        "--catalogue",
        writeCatalogue(dir, ["trixie"]),
        ...carol(),
        "--host",
        "n01",
        "--trust-any-owner",
      );
      expect(r.stdout).toEqual([
        'policy: deciding for carol {"n":1}',
        "carol on n01 (sshd): host (no switch)",
        "  reason     (none given)",
        "  decidedBy  host",
        "  loaded     source",
      ]);
    }));

  test("takes a real user's facts from NSS, and flags override them", async () => {
    const facts = JSON.parse(
      (
        await cli(
          "explain",
          EXAMPLE,
          "--catalogue",
          CATALOGUE,
          "--user",
          "root",
          "--host",
          "n01",
          "--json",
          "--trust-any-owner",
        )
      ).stdout.join("\n"),
    );
    expect(facts).toMatchObject({ user: "root", env: "default", decidedBy: "default" });
    const overridden = await cli(
      "explain",
      EXAMPLE,
      "--catalogue",
      CATALOGUE,
      "--user",
      "root",
      "--groups",
      "chemistry",
      "--host",
      "n01",
      "--json",
      "--trust-any-owner",
    );
    expect(JSON.parse(overridden.stdout.join("\n"))).toMatchObject({ env: "tiny", decidedBy: "group:chemistry" });
  });

  // Each fault: the policy file's text and the .ts line the report must point at.
  const FAULTS: [string, string, string, number, string][] = [
    ["throw", `export default () => {\n  throw new Error("boom");\n};\n`, "throw", 2, "Error: boom"],
    // 0: any line of the file. QuickJS records a frame's position at calls and slow paths, not
    // at the loop back-edge where the deadline interrupts it, so where a timeout points within
    // the file depends on what that frame (or the C stack beneath it) last held.
    [
      "timeout",
      `export default () => {\n  let n = 0;\n  while (n >= 0) n = (n + 1) % 7;\n  return null;\n};\n`,
      "timeout",
      0,
      "the policy ran longer than 100 ms",
    ],
    [
      "memory",
      `export default () => {\n  let s = "x";\n  for (;;) s = s.repeat(2);\n};\n`,
      "memory",
      3,
      "the policy used more than 16777216 bytes of memory",
    ],
    [
      "stack",
      `const f = (n: number): number =>\n  f(n + 1) + 1;\nexport default () => ({ env: String(f(0)) });\n`,
      "stack",
      2,
      "the policy overflowed its 262144-byte stack",
    ],
    [
      "shape",
      `import { use } from "chos-policy/sdk";\nexport default () =>\n  use(42 as unknown as string);\n`,
      "shape",
      3,
      "`env` must be a string, got a number",
    ],
    [
      "unlisted",
      `import { use } from "chos-policy/sdk";\nexport default () =>\n  use("sles9", "old");\n`,
      "unlisted",
      3,
      'environment "sles9" is not listed in the catalogue',
    ],
  ];

  test.each(FAULTS)(
    "reports a %s fault with its class and mapped .ts line, exit 1",
    (_name, text, fault, line, message) =>
      withTemp(async (dir) => {
        const policy = writePolicy(dir, { "index.ts": NO_OPINION, "policy.d/physics.ts": text });
        const catalogue = writeCatalogue(dir, ["trixie", "default"]);
        const args = ["explain", policy, "--catalogue", catalogue, ...carol("physics"), "--trust-any-owner"];
        const textRun = await cli(...args);
        const at = line === 0 ? "[1-5]" : String(line);
        expect(textRun).toMatchObject({
          code: 1,
          stdout: [],
          stderr: [expect.stringMatching(new RegExp(`^error: ${fault} in policy\\.d/physics\\.ts:${at}: ${message}$`))],
        });
        const json = JSON.parse((await cli(...args, "--json")).stdout.join("\n"));
        expect(json).toMatchObject({
          env: null,
          decidedBy: "fault",
          error: { fault, message, file: "policy.d/physics.ts", line: line === 0 ? expect.any(Number) : line },
        });
      }),
  );

  test("a shape fault without a helper still names the file", () =>
    withTemp(async (dir) => {
      const policy = writePolicy(dir, { "index.ts": `export default () => ({ env: "trixie", colour: "red" });\n` });
      const r = await cli(
        "explain",
        policy,
        "--catalogue",
        writeCatalogue(dir, ["trixie"]),
        ...carol(),
        "--trust-any-owner",
      );
      expect(r.stderr).toEqual(['error: shape in index.ts: unknown key "colour" in a decision { env, reason? }']);
      expect(r.code).toBe(1);
    }));

  test("misuse names the problem, not the whole help", async () => {
    expect(await cli("explain", EXAMPLE, "--catalogue", CATALOGUE)).toEqual({
      code: 2,
      stdout: [],
      stderr: ["chos-policy explain: --user NAME is required (see chos-policy help)"],
    });
    expect((await cli("explain", EXAMPLE, "--user", "nosuchuser-chos", "--catalogue", CATALOGUE)).stderr).toEqual([
      'chos-policy explain: no user "nosuchuser-chos" on this host: give --uid, --gid and --groups (see chos-policy help)',
    ]);
    expect((await cli("explain", EXAMPLE, "--colour")).stderr).toEqual([
      "chos-policy explain: unknown option --colour (see chos-policy help)",
    ]);
    const help = await cli("help");
    expect([help.code, help.stdout[0], help.stdout.length]).toEqual([0, "usage: chos-policy COMMAND ...", 9]);
    expect((await cli()).code).toBe(2);
    expect((await cli("frobnicate")).stderr).toEqual([
      'chos-policy: unknown command "frobnicate" (commands: build, check, explain, test; see chos-policy help)',
    ]);
  });

  test("a catalogue that is missing, malformed or untrusted is an error naming it, exit 1", () =>
    withTemp(async (dir) => {
      const missing = await cli("explain", EXAMPLE, "--catalogue", `${dir}/none`, ...carol());
      expect(missing).toEqual({
        code: 1,
        stdout: [],
        stderr: [`chos-policy explain: ${dir}/none: No such file or directory`],
      });
      const bad = `${dir}/bad`;
      fs.writeFileSync(bad, "%SHELLS\nbad line\n");
      expect((await cli("explain", EXAMPLE, "--catalogue", bad, ...carol(), "--trust-any-owner")).stderr).toEqual([
        `chos-policy explain: ${bad}: line 2: expected NAME:PATH, got "bad line"`,
      ]);
      const open = writeCatalogue(dir, ["trixie"]);
      fs.chmodSync(open, 0o666);
      expect((await cli("explain", EXAMPLE, "--catalogue", open, ...carol())).stderr).toEqual([
        `chos-policy explain: ${open}: writable by group and others, mode 0666 (not trusted)`,
      ]);
    }));

  test("the built command never hangs on a looping policy and exits 1", () =>
    withTemp(async (dir) => {
      const cli = path.resolve(__dirname, "../../dist/chos-policy.js");
      expect(fs.existsSync(cli)).toBe(true);
      const policy = writePolicy(dir, {
        "index.ts": `export default () => {\n  for (;;) { try { for (;;) {} } catch {} }\n};\n`,
      });
      const r = spawnSync(
        cli,
        ["explain", policy, "--catalogue", writeCatalogue(dir, ["trixie"]), ...carol(), "--trust-any-owner"],
        {
          encoding: "utf8",
          timeout: 20_000,
        },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^error: timeout in index\.ts(:\d+)?: the policy ran longer than 100 ms\n$/);
    }));
});
