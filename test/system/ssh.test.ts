// ssh logins through a real sshd (loopback, own config, own PAM service, UsePAM yes) with
// pam_chos in the session stack: each user lands where the example site policy says, an
// interactive pty session gets a login shell, $CHOS and the home directory inside the tree,
// and sftp (internal-sftp) serves the tree.
import * as fs from "node:fs";
import * as path from "node:path";
import { prettyName } from "./lib/pam";
import { TestSite, TREES_TIMEOUT_MS } from "./lib/site";
import { TestSshd } from "./lib/sshd";
import { PRETTY } from "./lib/trees";
import { acquireTestUsers, testUser } from "./lib/users";

const USERS = ["alice", "bob", "carol", "dave", "erin"];
let site: TestSite;
let sshd: TestSshd;
let releaseUsers: () => void;

beforeAll(async () => {
  releaseUsers = acquireTestUsers();
  site = await TestSite.create();
  sshd = await TestSshd.start(site, USERS, site.moduleArgs());
}, TREES_TIMEOUT_MS);

afterAll(() => {
  sshd?.stop();
  site?.close();
  releaseUsers?.();
});

describe("ssh user@127.0.0.1 cat /etc/os-release lands each user where the policy says", () => {
  test.each([
    ["alice", PRETTY.trixie],
    ["bob", PRETTY.tiny],
    ["carol", PRETTY.tiny],
    ["dave", PRETTY.trixie],
    ["erin", PRETTY.trixie],
  ])("%s sees %s", (user, pretty) => {
    const r = sshd.ssh(user, ["cat", "/etc/os-release"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(prettyName(r.stdout)).toBe(pretty);
  });
});

test("the session has $CHOS, the home directory, the host identity files and the tree's binaries", () => {
  const r = sshd.ssh("bob", ['echo "CHOS=$CHOS"; pwd; id -un; id -gn; readlink /bin/sh; ls /home']);
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split("\n");
  expect(lines.slice(0, 5)).toEqual(["CHOS=tiny", "/home/bob", "bob", "chemistry", "busybox"]);
  expect(lines.slice(5).join(" ")).toContain("bob");
});

test("~/.chos is honoured over ssh (physics asks for tiny)", () => {
  const file = path.join(testUser("alice").home, ".chos");
  fs.writeFileSync(file, "tiny\n");
  try {
    const r = sshd.ssh("alice", ["cat", "/etc/os-release"]);
    expect(r.status).toBe(0);
    expect(prettyName(r.stdout)).toBe(PRETTY.tiny);
  } finally {
    fs.rmSync(file, { force: true });
  }
});

// Measured on OpenSSH 9.2: sshd opens the PAM session right after authentication, before the
// client's `env` requests arrive, so a CHOS sent with SendEnv never reaches pam_chos; and sshd
// lays the PAM environment over the client's, so $CHOS in the session names the tree it is in.
test("CHOS sent by the client (SendEnv) comes too late to choose; $CHOS names the tree the session is in", async () => {
  const mark = site.ns.syslogMark();
  const r = sshd.ssh("alice", ["echo CHOS=$CHOS; cat /etc/os-release"], {
    env: { CHOS: "tiny" },
    args: ["-o", "SendEnv=CHOS"],
  });
  expect(r.status).toBe(0);
  expect(r.stdout.split("\n")[0]).toBe("CHOS=trixie");
  expect(prettyName(r.stdout)).toBe(PRETTY.trixie);
  expect(await site.ns.syslogSince(mark, /user="alice"/)).toMatch(/user="alice" env=trixie requested=- /);
});

test("an interactive ssh -tt session runs a login shell on a pty inside the tree", () => {
  const r = sshd.ssh("alice", [], {
    args: ["-tt"],
    input: 'echo "tty=$(tty) chos=$CHOS pwd=$(pwd) shell=$0"; grep PRETTY_NAME /etc/os-release; exit\n',
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/tty=\/dev\/pts\/\d+ chos=trixie pwd=\/home\/alice shell=-sh/);
  expect(r.stdout).toContain(`PRETTY_NAME="${PRETTY.trixie}"`);
});

test("the host's root is detached: host-only paths are out of the session's reach", () => {
  // A marker under /var/lib: an OS directory, so the session sees the tree's, never the host's.
  // (The test file itself is no marker: a checkout under /tmp or /home is served to sessions.)
  const dir = fs.mkdtempSync("/var/lib/chos-test-hostonly-");
  try {
    const marker = path.join(dir, "marker");
    fs.writeFileSync(marker, "host\n");
    const r = sshd.ssh("bob", [
      `test -e ${marker} && echo visible || echo hidden; awk '$5 == "/"' /proc/self/mountinfo | wc -l`,
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("hidden\n1\n");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a session can create a user namespace (rootless containers), which a chroot would forbid", () => {
  const r = sshd.ssh("alice", ["unshare", "--user", "--map-root-user", "id", "-u"]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(r.stdout).toBe("0\n");
});

test("sftp (internal-sftp) serves the tree", () => {
  const out = path.join(site.dir, "os-release-from-sftp");
  const r = sshd.sftp("bob", `get /etc/os-release ${out}\n`);
  expect(r.status).toBe(0);
  expect(prettyName(fs.readFileSync(out, "utf8"))).toBe(PRETTY.tiny);
});

test("one syslog line per ssh session names the PAM service sshd runs as", async () => {
  const mark = site.ns.syslogMark();
  expect(sshd.ssh("carol", ["true"]).status).toBe(0);
  const log = await site.ns.syslogSince(mark, /user="carol"/);
  const lines = log.split("\n").filter((l) => l.includes("pam_chos") && l.includes('user="carol"'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(
    `pam_chos(${sshd.service}:session): user="carol" env=tiny requested=- reason="legacy codes need the minimal userland" layer=group:legacy backend=namespace`,
  );
});
