// ssh into a node where the user runs a job, through pam_slurm_adopt (Debian's
// libpam-slurm-adopt) before pam_chos, in a real sshd and a real Slurm 22.05 with
// PrologFlags=contain and proctrack/cgroup on the host's cgroup v1 freezer: the session lands in
// the job's view (pam/core/apply/jobview.h), not where a login would; a node without the user's
// job refuses them (pam_slurm_adopt's action_no_jobs=deny); the pin goes with the job; a record
// that is not the user's, not root's, not a record, names another descriptor, or a tree no
// longer listed, is refused
// with its line and on_error (host) decides; root stays on the host.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildImage, TestSite, TREES_TIMEOUT_MS } from "../system/lib/site";
import { TestSshd } from "../system/lib/sshd";
import { PRETTY } from "../system/lib/trees";
import { acquireTestUsers } from "../system/lib/users";
import { SlurmCluster, until } from "./lib/cluster";

let site: TestSite;
let cluster: SlurmCluster;
let sshd: TestSshd;
let releaseUsers: () => void;
let views: string;

const HOST_PRETTY = /^PRETTY_NAME="(.*)"$/m.exec(fs.readFileSync("/etc/os-release", "utf8"))?.[1];

/** The sshd is node n1 (pam_slurm_adopt's nodename=: two slurmd share this host). */
const NODE = "n1";

beforeAll(async () => {
  releaseUsers = acquireTestUsers();
  site = await TestSite.create();
  views = site.jobViews;
  cluster = await SlurmCluster.start(site, { contain: true });
  sshd = await TestSshd.start(site, ["alice", "bob", "root"], site.moduleArgs(), {
    env: { SLURM_CONF: cluster.conf },
    account: (service) => [`account required pam_slurm_adopt.so nodename=${NODE} service=${service}`],
  });
}, TREES_TIMEOUT_MS);

afterAll(async () => {
  sshd?.stop();
  await cluster?.stop();
  site?.close();
  releaseUsers?.();
});

// Each test's jobs end before the next starts: slurmctld schedules nothing on a node whose job
// is still completing.
afterEach(async () => {
  const jobs = () => cluster.run("root", ["squeue", "-h", "-o", "%i"]).stdout.trim();
  if (jobs()) cluster.run("root", ["scancel", ...jobs().split("\n")]);
  await until(() => jobs() === "", "the jobs' end");
});

/** A running batch job of user on node (its script records its mount namespace, then sleeps),
 *  once its first step pinned its view. */
async function runningJob(
  user: string,
  node: string,
  args: readonly string[] = [],
): Promise<{ id: number; ns: string }> {
  const out = `${cluster.work}/adopt-${user}-${Date.now()}`;
  // Renamed into place: the test reads it once it exists, and a redirection creates it empty.
  const script = `readlink /proc/self/ns/mnt > ${out}.tmp && mv ${out}.tmp ${out}.ns; sleep 300`;
  const r = cluster.run(user, ["sbatch", "--parsable", "-w", node, "-o", `${out}.out`, ...args, "--wrap", script]);
  if (r.status !== 0) throw new Error(`sbatch: ${r.stderr}`);
  const id = Number(r.stdout.trim());
  await until(() => fs.existsSync(`${out}.ns`) && fs.existsSync(record(id)), `job ${id}'s pin`);
  return { id, ns: fs.readFileSync(`${out}.ns`, "utf8").trim() };
}

function record(job: number): string {
  return path.join(views, `${job}.rec`);
}

/** Each session prints $CHOS, its tree's PRETTY_NAME and its mount namespace. */
const WHERE = 'echo "$CHOS|$(grep ^PRETTY_NAME= /etc/os-release | cut -d\\" -f2)|$(readlink /proc/self/ns/mnt)"';

/** The pam_chos lines syslog received since mark. */
async function sessionLines(mark: number): Promise<string[]> {
  const text = await site.ns.syslogSince(mark, /pam_chos\(.*user="/);
  return text.split("\n").filter((l) => /pam_chos\(.*user="/.test(l));
}

describe("ssh into a node with a running job", () => {
  test("alice lands in her job's tree (sbatch --chos=tiny), in its very namespace, not the login's trixie", async () => {
    const login = sshd.ssh("alice", [WHERE]);
    expect(login.status).not.toBe(0); // no job yet: pam_slurm_adopt's action_no_jobs=deny
    const { id: job, ns } = await runningJob("alice", NODE, ["--chos=tiny"]);
    const mark = site.ns.syslogMark();
    const r = sshd.ssh("alice", [WHERE]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(`tiny|${PRETTY.tiny}|${ns}`);
    const [line] = await sessionLines(mark);
    expect(line).toMatch(
      new RegExp(
        `user="alice" env=tiny requested=- reason="adopted into job ${job}: its view" layer=job backend=namespace us=\\d+ job=${job}$`,
      ),
    );
  });

  test("bob, whose job runs on n2 only, is refused on n1; his job is never alice's either", async () => {
    await runningJob("alice", NODE, ["--chos=tiny"]);
    await runningJob("bob", "n2");
    const r = sshd.ssh("bob", [WHERE]);
    expect(r.status).toBe(255);
    expect(r.stdout).toBe("");
  });

  test("the pin goes when the job ends; the next ssh is refused", async () => {
    const { id: job } = await runningJob("alice", NODE, ["--chos=tiny"]);
    cluster.run("root", ["scancel", String(job)]);
    await until(() => fs.readdirSync(views).length === 0, `job ${job}'s pin to go`);
    expect(sshd.ssh("alice", [WHERE]).status).toBe(255);
  });

  test("a job on an OS image keeps its generation when the image is replaced: alice's ssh lands in the job's view", async () => {
    // Under /var/lib, root's 0755: the image and the directories above it pass the trust rule.
    const dir = fs.mkdtempSync("/var/lib/chos-adopt-");
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, "tiny.sqfs");
    const listed = fs.readFileSync(site.catalogue, "utf8");
    try {
      buildImage(site.trees.tiny, file);
      fs.writeFileSync(site.catalogue, listed.replace(/^tiny:.*$/m, `tiny:${file}`));
      expect(site.setup().status).toBe(0);
      const { id: job, ns } = await runningJob("alice", NODE, ["--chos=tiny"]);
      // Other bytes renamed over the file: a new generation, which new sessions get.
      const v2 = path.join(dir, "v2");
      expect(spawnSync("cp", ["-a", site.trees.tiny, v2]).status).toBe(0);
      fs.writeFileSync(path.join(v2, "etc/chos-marker"), "v2\n", { mode: 0o644 });
      buildImage(v2, path.join(dir, "next.sqfs"));
      fs.renameSync(path.join(dir, "next.sqfs"), file);
      expect(site.setup().stdout).toMatch(/done: image of "tiny": .* leads to tiny@[0-9a-f]{16}\n/);
      const mark = site.ns.syslogMark();
      const r = sshd.ssh("alice", [`${WHERE}; cat /etc/chos-marker 2>/dev/null || echo old image`]);
      expect(r.stdout.trim()).toBe(`tiny|${PRETTY.tiny}|${ns}\nold image`);
      const [line] = await sessionLines(mark);
      expect(line).toMatch(new RegExp(`reason="adopted into job ${job}: its view" layer=job `));
    } finally {
      fs.writeFileSync(site.catalogue, listed);
      site.setup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("root is ignored by pam_slurm_adopt and stays on the host", () => {
    const r = sshd.ssh("root", ["cat /etc/os-release | grep -c chos; echo $CHOS"]);
    expect(r.stdout).toBe("0\n\n");
  });
});

describe("a pin that is not what spank_chos wrote is refused, logged, and on_error (host) decides", () => {
  /** Rewrites job's record inside the namespace, then logs alice in. */
  async function loginAfter(job: number, shell: string): Promise<{ where: string; line: string }> {
    const r = site.ns.run([
      "sh",
      "-c",
      shell.replaceAll("REC", record(job)).replaceAll("NS", path.join(views, `${job}.ns`)),
    ]);
    expect(r.stderr).toBe("");
    const mark = site.ns.syslogMark();
    const s = sshd.ssh("alice", [WHERE]);
    expect(s.status).toBe(0);
    const [line] = await sessionLines(mark);
    return { where: s.stdout.trim(), line };
  }

  /** On the host: no $CHOS, the host's own os-release. */
  const host = (where: string) => expect(where.split("|").slice(0, 2)).toEqual(["", HOST_PRETTY]);

  test("a record for another uid", async () => {
    const { id: job } = await runningJob("alice", NODE, ["--chos=tiny"]);
    const bob = fs.statSync("/home/bob").uid;
    const { where, line } = await loginAfter(job, `sed -i 's/^uid=.*/uid=${bob}/' REC`);
    host(where);
    expect(line).toContain(`error="job ${job}'s record ${record(job)}: for uid ${bob}, not uid`);
    expect(line).toMatch(/env=\(host\) .* failed=apply on_error=host /);
    expect(line).not.toContain(" job=");
  });

  test("a record root does not own", async () => {
    const { id: job } = await runningJob("alice", NODE, ["--chos=tiny"]);
    const { where, line } = await loginAfter(job, "chown alice REC");
    host(where);
    expect(line).toContain("not root's regular file of at most 8192 bytes (refused)");
  });

  test("a record with a line of another kind", async () => {
    const { id: job } = await runningJob("alice", NODE, ["--chos=tiny"]);
    const { where, line } = await loginAfter(job, "echo root=/ >> REC");
    host(where);
    expect(line).toContain('bad line \\"root=/\\" (refused)');
  });

  test("a descriptor that is not the view", async () => {
    const { id: job } = await runningJob("alice", NODE, ["--chos=tiny"]);
    const { where, line } = await loginAfter(job, "sed -i 's/^fd=.*/fd=0/' REC");
    host(where);
    expect(line).toMatch(/descriptor 0 is not the view \(refused\)/);
  });

  test("a job whose tree the admin has since taken out of the catalogue", async () => {
    const { id: job } = await runningJob("alice", NODE, ["--chos=tiny"]);
    const listed = fs.readFileSync(site.catalogue, "utf8");
    fs.writeFileSync(site.catalogue, listed.replace(/^tiny:.*\n/m, ""));
    try {
      const { where, line } = await loginAfter(job, "true");
      host(where);
      expect(line).toContain(
        `error="job ${job}'s view of \\"tiny\\" (${site.trees.tiny}): not listed in the catalogue"`,
      );
      expect(line).toMatch(/env=\(host\) .* failed=apply on_error=host /);
    } finally {
      fs.writeFileSync(site.catalogue, listed);
    }
  });

  test("a record whose step is gone: the usual login decision", async () => {
    const { id: job } = await runningJob("alice", NODE, ["--chos=tiny"]);
    const { where, line } = await loginAfter(job, "sed -i 's/^pid=.*/pid=999999999/' REC");
    expect(where).toMatch(/^trixie\|/);
    expect(line).toMatch(/user="alice" env=trixie .* layer=group:physics backend=namespace us=\d+$/);
  });

  test("no record (the job's first step has not pinned yet): the usual login decision", async () => {
    const { id: job } = await runningJob("alice", NODE, ["--chos=tiny"]);
    const { where, line } = await loginAfter(job, "rm REC");
    expect(where).toMatch(/^trixie\|/);
    expect(line).toMatch(/user="alice" env=trixie .* layer=group:physics backend=namespace us=\d+$/);
  });
});
