// pam_chos through real PAM: pamtester opens and closes a session on a generated service
// (`session requisite pam_chos.so ...` then pam_exec printing /etc/os-release), inside a test
// mount namespace laid out by `chos setup`. Each case asserts pamtester's exit code AND the
// PRETTY_NAME the session saw, against the example site policy (policy/examples/site).

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { RunOptions } from "./lib/namespace";
import { type PamRun, pamtester } from "./lib/pam";
import { pamSuite } from "./lib/suite";
import { PRETTY } from "./lib/trees";
import { testUser, writeChosFile } from "./lib/users";

const suite = pamSuite(["alice", "bob", "carol", "dave", "erin"]);

/** pamtester for USER on a new service: the site's module arguments plus EXTRA, after BEFORE. */
function openAs(
  user: string,
  opts: RunOptions = {},
  extra: readonly string[] = [],
  before: readonly string[] = [],
): PamRun {
  return pamtester(suite.site, suite.service([...suite.site.moduleArgs(), ...extra], before), user, opts);
}

describe("the example policy routes users by group", () => {
  test.each([
    ["alice", "physics gets trixie", PRETTY.trixie],
    ["bob", "chemistry gets tiny", PRETTY.tiny],
    ["carol", "legacy gets tiny", PRETTY.tiny],
    ["dave", "admins without a request fall to physics: trixie", PRETTY.trixie],
    ["erin", "no site group: the catalogue default (trixie)", PRETTY.trixie],
  ])("%s: %s", (user, _why, pretty) => {
    const r = openAs(user);
    expect(r.stdout).toContain("pamtester: successfully opened a session");
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(pretty);
  });

  test("the session line is logged once with user, env, reason, layer, backend and microseconds", async () => {
    const mark = suite.site.ns.syslogMark();
    const r = openAs("alice");
    expect(r.status).toBe(0);
    const log = await suite.site.ns.syslogSince(mark, /user="alice"/);
    const lines = log.split("\n").filter((l) => l.includes("pam_chos") && l.includes('user="alice"'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /authpriv\.info .*pam_chos\(chos-test-[0-9-]+:session\): user="alice" env=trixie requested=- reason="physics codes are built for trixie" layer=group:physics backend=namespace us=\d+$/,
    );
  });
});

describe("the user request: $CHOS and ~/.chos", () => {
  test("$CHOS=tiny from the process environment is honoured for physics", () => {
    const r = openAs("alice", { env: { CHOS: "tiny" } });
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(PRETTY.tiny);
  });

  test("$CHOS from the PAM environment (pam_env) is honoured and wins over ~/.chos", () => {
    const conf = path.join(suite.site.dir, "pam_env.conf");
    fs.writeFileSync(conf, "CHOS DEFAULT=tiny\n");
    writeChosFile("alice", "trixie\n");
    const r = openAs("alice", {}, [], [`session required pam_env.so conffile=${conf} readenv=0`]);
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(PRETTY.tiny);
  });

  test("~/.chos first line is honoured for physics", () => {
    writeChosFile("alice", "tiny\nanything after the first line is ignored\n");
    const r = openAs("alice");
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(PRETTY.tiny);
  });

  test("$CHOS wins over ~/.chos", () => {
    writeChosFile("alice", "tiny\n");
    const r = openAs("alice", { env: { CHOS: "trixie" } });
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(PRETTY.trixie);
  });

  test("chemistry asks for trixie and still gets tiny (its group file does not honour requests)", () => {
    writeChosFile("bob", "trixie\n");
    const r = openAs("bob");
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(PRETTY.tiny);
  });

  test("an admin gets what they ask for", () => {
    const r = openAs("dave", { env: { CHOS: "tiny" } });
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(PRETTY.tiny);
  });

  test("the ~/.chos reader has the user's supplementary groups: dave reads a root:physics 0640 file", () => {
    const file = path.join(testUser("dave").home, ".chos");
    fs.writeFileSync(file, "tiny\n", { mode: 0o640 });
    try {
      execFileSync("chown", ["root:physics", file]);
      fs.chmodSync(file, 0o640);
      const r = openAs("dave");
      expect(r.status).toBe(0);
      expect(r.pretty).toBe(PRETTY.tiny);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  test("user_conf_file= names another file in the home", () => {
    const u = testUser("alice");
    const file = path.join(u.home, ".chos-other");
    fs.writeFileSync(file, "tiny\n");
    try {
      const r = openAs("alice", {}, ["user_conf_file=.chos-other"]);
      expect(r.status).toBe(0);
      expect(r.pretty).toBe(PRETTY.tiny);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});

describe("module arguments", () => {
  test("backend=namespace is the backend auto picks on a host without /proc/chos", async () => {
    const mark = suite.site.ns.syslogMark();
    const r = openAs("bob", {}, ["backend=namespace"]);
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(PRETTY.tiny);
    expect(await suite.site.ns.syslogSince(mark, /user="bob"/)).toMatch(
      /user="bob" env=tiny .* backend=namespace us=\d+/,
    );
  });

  test("debug adds LOG_DEBUG lines (the request and where it came from); without it there are none", async () => {
    let mark = suite.site.ns.syslogMark();
    expect(openAs("alice", { env: { CHOS: "tiny" } }).status).toBe(0);
    expect(await suite.site.ns.syslogSince(mark, /user="alice"/)).not.toContain(".debug");
    mark = suite.site.ns.syslogMark();
    expect(openAs("alice", { env: { CHOS: "tiny" } }, ["debug"]).status).toBe(0);
    expect(await suite.site.ns.syslogSince(mark, /user="alice" env=/)).toMatch(
      /authpriv\.debug .*user "alice": requests "tiny" from \$CHOS/,
    );
  });
});

describe("root", () => {
  test("uid 0 stays on the host without allow_root", async () => {
    const mark = suite.site.ns.syslogMark();
    const r = openAs("root", { env: { CHOS: "tiny" } });
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(PRETTY.host);
    expect(await suite.site.ns.syslogSince(mark, /user="root"/)).toMatch(
      /user="root" env=\(host\) requested=- reason="root stays on the host \(allow_root is not set\)" layer=host backend=none/,
    );
  });

  test("uid 0 is switched with allow_root", () => {
    const r = openAs("root", { env: { CHOS: "tiny" } }, ["allow_root"]);
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(PRETTY.tiny); // no group file for root: the request layer
  });
});
