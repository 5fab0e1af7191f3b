// What `chos setup` serves in every tree, seen from inside real sessions: the site's catalogue
// at /etc/chos and the policy's directory at /etc/chos.d (read-only), so the `chos` command,
// whose /etc is the tree's, works with its defaults; and a served file the host has replaced
// since (useradd renames /etc/passwd) is found stale by --check and rebound by setup.
import * as fs from "node:fs";
import * as path from "node:path";
import { pamtester, removeService, writeService } from "./lib/pam";
import { CHOS, TestSite, TREES_TIMEOUT_MS, writeConfig } from "./lib/site";
import { TestSshd } from "./lib/sshd";
import { acquireTestUsers } from "./lib/users";

let site: TestSite;
let sshd: TestSshd;
let releaseUsers: () => void;
/** A copy of chos under /tmp, which every session sees (the site binds /tmp into ROOT). */
let bin: string;

beforeAll(async () => {
  releaseUsers = acquireTestUsers();
  site = await TestSite.create();
  bin = fs.mkdtempSync("/tmp/chos-test-bin-");
  fs.chmodSync(bin, 0o755);
  fs.copyFileSync(CHOS, path.join(bin, "chos"));
  fs.chmodSync(path.join(bin, "chos"), 0o755);
  sshd = await TestSshd.start(site, ["alice", "dave"], site.moduleArgs());
}, TREES_TIMEOUT_MS);

afterAll(() => {
  sshd?.stop();
  site?.close();
  if (bin) fs.rmSync(bin, { recursive: true, force: true });
  releaseUsers?.();
});

test("chos list works inside an ssh session with its default catalogue and policy", () => {
  const r = sshd.ssh("alice", [`${bin}/chos`, "list"]);
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe(`trixie\t${site.trees.trixie}\ntiny\t${site.trees.tiny}\n`);
  expect(r.status).toBe(0);
});

test("chos list works inside a pamtester session (pam_exec as the user)", () => {
  const script = path.join(bin, "session.sh");
  fs.writeFileSync(script, `#!/bin/sh\nexec setpriv --reuid=alice --regid=physics --init-groups ${bin}/chos list\n`, {
    mode: 0o755,
  });
  const service = writeService(site.moduleArgs(), []);
  try {
    fs.appendFileSync(`/etc/pam.d/${service}`, `session optional pam_exec.so stdout ${script}\n`);
    const r = pamtester(site, service, "alice");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`trixie\t${site.trees.trixie}\ntiny\t${site.trees.tiny}\n`);
  } finally {
    removeService(service);
  }
});

test("the catalogue and the policy directory are read-only in the session", () => {
  // The session's /etc is the link's: the mounts sit at /.chos-link/etc/...
  const r = sshd.ssh("dave", [
    `awk '$5 ~ /\\/etc\\/chos(\\.d)?$/ { split($6, o, ","); print $5, o[1] }' /proc/self/mountinfo; ls /etc/chos.d`,
  ]);
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(
    "/.chos-link/etc/chos ro\n/.chos-link/etc/chos.d ro\npolicy.js\npolicy.js.map\npolicy.js.qbc\n",
  );
});

test("a served file replaced on the host since setup is stale: --check says so, setup rebinds it", () => {
  const tree = site.trees.tiny;
  const original = fs.readFileSync(site.catalogue, "utf8");
  // Replaced, not rewritten: a new inode, as editors and useradd do.
  const next = `${site.catalogue}.new`;
  writeConfig(next, `${original}# edited\n`);
  fs.renameSync(next, site.catalogue);
  try {
    const check = site.setup("--check");
    expect(check.status).toBe(1);
    expect(check.stdout).toContain(
      `problem: ${tree}/etc/chos is not the host's current ${site.catalogue} (replaced since it was bound, or bound from elsewhere); fix: run \`chos setup\`\n`,
    );
    const fix = site.setup();
    expect(fix.status).toBe(0);
    expect(fix.stdout).toContain(`done: bound ${site.catalogue} on ${tree}/etc/chos (read-only)\n`);
    expect(site.ns.run(["cat", `${tree}/etc/chos`]).stdout).toBe(`${original}# edited\n`);
    expect(site.setup("--check").stdout).toBe("chos setup: no problems\n");
  } finally {
    writeConfig(site.catalogue, original);
  }
});
