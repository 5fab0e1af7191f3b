// The cases file of `chos-policy test` and the CLI's arguments: every bad input is rejected
// with a message naming the place and what is wanted.
import { integerOption, parseArgs, UsageError } from "../../policy/cli/args";
import { parseCases } from "../../policy/cli/cases";

const USERS = { alice: { uid: 2001, gid: 2001, groups: ["physics"] } };
const CASE = { name: "n", user: "alice", expect: { env: "trixie" } };

function cases(top: Record<string, unknown>): string {
  return JSON.stringify({ catalogue: "chos.conf", users: USERS, cases: [CASE], ...top });
}

describe("cases file", () => {
  test("a valid file fills defaults and resolves the catalogue beside it", () => {
    const parsed = parseCases(
      cases({ defaults: { host: "n07" }, cases: [{ ...CASE, requested: "tiny" }] }),
      "/srv/p/cases.json",
    );
    expect(parsed.catalogue).toBe("/srv/p/chos.conf");
    expect(parsed.cases[0].context).toEqual({
      user: { name: "alice", uid: 2001, gid: 2001, home: "/home/alice", shell: "/bin/sh", groups: ["physics"] },
      host: { name: "n07" },
      service: "sshd",
      remoteHost: null,
      tty: null,
      requested: { env: "tiny", from: "env" },
    });
  });

  const BAD: [string, string, string][] = [
    ["not JSON", "{", "f.json: not JSON: "],
    [
      "an unknown top-level key",
      cases({ catalog: "x" }),
      'f.json: top level: unknown key "catalog" (allowed: catalogue, defaults, users, cases)',
    ],
    ["no cases", cases({ cases: [] }), "f.json: cases: expected a non-empty array"],
    ["no catalogue", JSON.stringify({ users: USERS, cases: [CASE] }), "f.json: catalogue: expected a string"],
    [
      "an unknown default",
      cases({ defaults: { hostname: "x" } }),
      'f.json: defaults: unknown key "hostname" (allowed: host, service, remoteHost, tty)',
    ],
    [
      "a user not in users",
      cases({ cases: [{ ...CASE, user: "mallory" }] }),
      'f.json: cases[0].user: "mallory" is not in "users"',
    ],
    [
      "a negative uid",
      cases({ users: { alice: { uid: -1, gid: 1, groups: [] } } }),
      "f.json: users.alice.uid: expected an integer >= 0",
    ],
    [
      "groups not strings",
      cases({ users: { alice: { uid: 1, gid: 1, groups: [1] } } }),
      "f.json: users.alice.groups[0]: expected a string",
    ],
    [
      "an unknown case key",
      cases({ cases: [{ ...CASE, hots: "x" }] }),
      'f.json: cases[0]: unknown key "hots" (allowed: name, user, host, service, remoteHost, tty, requested, job, expect)',
    ],
    [
      "a bad request source",
      cases({ cases: [{ ...CASE, requested: { env: "x", from: "argv" } }] }),
      'f.json: cases[0].requested.from: expected "env", "file" or "option"',
    ],
    [
      "an unknown job key",
      cases({ cases: [{ ...CASE, job: { partition: "gpu", queue: "x" } }] }),
      'f.json: cases[0].job: unknown key "queue" (allowed: id, step, partition, account, node, submitHost)',
    ],
    [
      "a job id that is not an integer",
      cases({ cases: [{ ...CASE, job: { id: "7" } }] }),
      "f.json: cases[0].job.id: expected an integer >= 0",
    ],
    [
      "an empty expectation",
      cases({ cases: [{ ...CASE, expect: { decidedBy: "site" } }] }),
      "f.json: cases[0].expect: name env, deny or fault",
    ],
    [
      "an unknown fault",
      cases({ cases: [{ ...CASE, expect: { fault: "crash" } }] }),
      "f.json: cases[0].expect.fault: expected one of load, throw, timeout, memory, stack, shape, unlisted",
    ],
    ["a case that is not an object", cases({ cases: ["alice"] }), "f.json: cases[0]: expected an object"],
  ];

  test("a case with a job is a Slurm step: service slurm, job defaults from the case", () => {
    const file = parseCases(cases({ cases: [{ ...CASE, host: "n07", job: { partition: "gpu" } }] }), "f.json");
    expect(file.cases[0].context.service).toBe("slurm");
    expect(file.cases[0].context.job).toEqual({
      id: 1,
      step: "0",
      partition: "gpu",
      account: null,
      node: "n07",
      submitHost: null,
    });
  });

  test.each(BAD)("rejects %s", (_name, text, message) => {
    expect(() => parseCases(text, "f.json")).toThrow(message);
  });
});

describe("arguments", () => {
  const spec = { strings: ["output", "uid"], booleans: ["json"], aliases: { o: "output" } };

  test("parses values, aliases, = forms and positionals", () => {
    const a = parseArgs("build", ["dir", "-o", "out.js", "--uid=7", "--json", "--", "--not-an-option"], spec);
    expect([a.positionals, [...a.strings], [...a.booleans]]).toEqual([
      ["dir", "--not-an-option"],
      [
        ["output", "out.js"],
        ["uid", "7"],
      ],
      ["json"],
    ]);
    expect(integerOption("build", a, "uid")).toBe(7);
  });

  const MISUSE: [string, string[], string][] = [
    ["an unknown option", ["--colour"], "build: unknown option --colour"],
    ["a missing value", ["--output"], "build: --output needs a value"],
    ["a value for a flag", ["--json=yes"], "build: --json takes no value"],
    ["an option given twice", ["-o", "a", "--output", "b"], "build: --output given twice"],
  ];

  test.each(MISUSE)("rejects %s", (_name, argv, message) => {
    expect(() => parseArgs("build", argv, spec)).toThrow(new UsageError(message));
  });

  test("rejects a uid that is not a non-negative integer", () => {
    for (const bad of ["-1", "1.5", "x", "99999999999999999999"]) {
      expect(() => integerOption("explain", parseArgs("explain", [`--uid=${bad}`], spec), "uid")).toThrow(
        `explain: --uid wants a non-negative integer, not "${bad}"`,
      );
    }
  });
});
