// spank_chos in a real Slurm 22.05 (munged, slurmctld, slurmd n1 and n2; test/slurm/lib/cluster):
// every step's tasks, on every node, run in the tree the example site policy picks for the
// user, with service "slurm" and the job's facts; --chos and the submitter's $CHOS are requests
// the policy judges; a denial fails the step with the policy's reason on the job's stderr; a
// policy fault follows on_error; each step logs one line with the job and step ids.
import * as fs from "node:fs";
import * as path from "node:path";
import { rawBundle, type TestSite, writeConfig } from "../system/lib/site";
import { PRETTY } from "../system/lib/trees";
import { runBatch, type SlurmCluster, SPANK_CHOS, until } from "./lib/cluster";
import { slurmSuite } from "./lib/suite";

let site: TestSite;
let cluster: SlurmCluster;
slurmSuite({}, (s, c) => {
  site = s;
  cluster = c;
});

afterEach(() => cluster.setSpankArgs(site.moduleArgs()));

/** Each task prints $CHOS and the PRETTY_NAME of the tree it sees, on one line. */
const TREE = 'echo "$CHOS $(grep ^PRETTY_NAME= /etc/os-release | cut -d\\" -f2)"';
/** As TREE, after the node the task runs on. */
const WHERE = `echo "$SLURMD_NODENAME $(${TREE})"`;

function lines(text: string): string[] {
  return text.trim().split("\n").sort();
}

/** The spank_chos lines syslog received since mark. */
async function stepLines(mark: number, count: number): Promise<string[]> {
  const re = new RegExp(`(spank_chos: user=.*\\n[^]*){${count}}`);
  const text = await site.ns.syslogSince(mark, re);
  return text.split("\n").filter((l) => l.includes("spank_chos: user="));
}

describe("steps land in the policy's tree on every node", () => {
  test("srun -N2: alice's tasks on n1 and n2 run in trixie, with $CHOS, one log line per node", async () => {
    const mark = site.ns.syslogMark();
    const r = cluster.run("alice", ["srun", "-N2", "sh", "-c", WHERE]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(lines(r.stdout)).toEqual([`n1 trixie ${PRETTY.trixie}`, `n2 trixie ${PRETTY.trixie}`]);
    const logged = await stepLines(mark, 2);
    expect(logged).toHaveLength(2);
    for (const l of logged) {
      expect(l).toMatch(
        /spank_chos: user="alice" env=trixie requested=- reason="physics codes are built for trixie" layer=group:physics backend=namespace us=\d+ job=\d+ step=0$/,
      );
    }
  });

  test("sbatch: carol's batch script runs in tiny, logged as step=batch", async () => {
    const mark = site.ns.syslogMark();
    const b = await runBatch(cluster, "carol", [], TREE);
    expect(b).toMatchObject({ state: "COMPLETED", exitCode: "0:0" });
    expect(b.output).toBe(`tiny ${PRETTY.tiny}\n`);
    const [line] = await stepLines(mark, 1);
    expect(line).toMatch(/user="carol" env=tiny .* job=\d+ step=batch$/);
    expect(line).toContain(`job=${b.id} `);
  });

  test("salloc + srun: the allocation's steps run in the tree", () => {
    const r = cluster.run("alice", ["salloc", "-N2", "--chos=tiny", "srun", "sh", "-c", WHERE]);
    expect(r.status).toBe(0);
    expect(lines(r.stdout)).toEqual([`n1 tiny ${PRETTY.tiny}`, `n2 tiny ${PRETTY.tiny}`]);
  });

  test("the step may create user namespaces (pivot_root, not chroot)", () => {
    const r = cluster.run("alice", ["srun", "unshare", "-U", "-r", "id", "-u"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("0\n");
  });
});

describe("the policy sees service slurm and the job's facts", () => {
  test("id, step, partition, account, node and submit host, per node, and --chos as an option", async () => {
    const facts = path.join(path.dirname(site.policy), "facts.js");
    const show = "[j.id, j.step, j.partition, j.account, j.node, j.submitHost, ctx.service, ctx.requested.from]";
    writeConfig(
      facts,
      rawBundle(`const j = ctx.job; return { layer: "site", value: { env: "tiny", reason: ${show}.join("|") } };`),
    );
    cluster.setSpankArgs([
      `catalogue=${site.catalogue}`,
      `policy=${facts}`,
      `root=${site.root}`,
      `job_views=${site.jobViews}`,
    ]);
    try {
      const mark = site.ns.syslogMark();
      const r = cluster.run("alice", ["srun", "-N2", "-p", "gpu", "-A", "proj7", "--chos=tiny", "true"]);
      expect(r.status).toBe(0);
      const logged = await stepLines(mark, 2);
      const job = /job=(\d+) step=0$/.exec(logged[0])?.[1];
      const host = site.ns.run(["hostname", "-s"]).stdout.trim();
      const reasons = logged.map((l) => /reason="([^"]*)"/.exec(l)?.[1]).sort();
      expect(reasons).toEqual(
        ["n1", "n2"].map((node) => [job, "0", "gpu", "proj7", node, host, "slurm", "option"].join("|")),
      );
      // The batch step: the first node of the allocation; no account asked for (null).
      const batchMark = site.ns.syslogMark();
      const b = await runBatch(cluster, "alice", ["-w", "n2", "--chos=tiny"], "true");
      const [batch] = await stepLines(batchMark, 1);
      expect(/reason="([^"]*)"/.exec(batch)?.[1]).toBe(
        [b.id, "batch", "batch", "", "n2", host, "slurm", "option"].join("|"),
      );
    } finally {
      fs.rmSync(facts, { force: true });
    }
  });
});

describe("--chos and $CHOS are requests the policy judges", () => {
  test("--chos honoured: physics may ask for tiny", async () => {
    const mark = site.ns.syslogMark();
    const r = cluster.run("alice", ["srun", "--chos=tiny", "sh", "-c", TREE]);
    expect(r.stdout).toBe(`tiny ${PRETTY.tiny}\n`);
    const [line] = await stepLines(mark, 1);
    expect(line).toContain('env=tiny requested=tiny reason="requested in --chos" layer=group:physics');
  });

  test("--chos refused: chemistry gets tiny whatever it asks", async () => {
    const mark = site.ns.syslogMark();
    const r = cluster.run("bob", ["srun", "--chos=trixie", "sh", "-c", TREE]);
    expect(r.stdout).toBe(`tiny ${PRETTY.tiny}\n`);
    const [line] = await stepLines(mark, 1);
    expect(line).toContain('env=tiny requested=trixie reason="the certified solver runs on tiny only"');
  });

  test("--chos unlisted: erin asking for sles9 gets the catalogue's default", async () => {
    const mark = site.ns.syslogMark();
    const r = cluster.run("erin", ["srun", "--chos=sles9", "sh", "-c", TREE]);
    expect(r.stdout).toBe(`default ${PRETTY.trixie}\n`);
    const [line] = await stepLines(mark, 1);
    expect(line).toContain('env=default requested=sles9 reason="the catalogue\'s default" layer=default');
  });

  test("--chos that is not a name is logged and ignored: the policy decides as if none", async () => {
    const mark = site.ns.syslogMark();
    const r = cluster.run("erin", ["srun", "--chos=../../etc", "sh", "-c", TREE]);
    expect(r.stdout).toBe(`default ${PRETTY.trixie}\n`);
    const text = await site.ns.syslogSince(mark, /spank_chos: user=/);
    expect(text).toContain('request "../../etc" from --chos ignored: not a valid environment name');
    expect(text).toContain('user="erin" env=default requested=- ');
  });

  test("the submitter's $CHOS is the request of srun's and sbatch's steps", async () => {
    const env = { CHOS: "tiny" };
    expect(cluster.run("alice", ["srun", "sh", "-c", TREE], { env }).stdout).toBe(`tiny ${PRETTY.tiny}\n`);
    const b = await runBatch(cluster, "alice", [], TREE, { env });
    expect(b.output).toBe(`tiny ${PRETTY.tiny}\n`);
  });

  test("--chos wins over $CHOS, for sbatch too", async () => {
    const b = await runBatch(cluster, "alice", ["--chos=trixie"], TREE, { env: { CHOS: "tiny" } });
    expect(b.output).toBe(`trixie ${PRETTY.trixie}\n`);
  });
});

describe("a denial fails the step with the policy's reason", () => {
  const REASON = "chos: step refused: the legacy tree has no GPU drivers: use the batch partition";

  test("srun -N2 -p gpu as carol: every task fails before it runs, saying why", async () => {
    const mark = site.ns.syslogMark();
    const r = cluster.run("carol", ["srun", "-N2", "-p", "gpu", "sh", "-c", "echo ran"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n").filter((l) => l === REASON)).toHaveLength(2);
    const logged = await stepLines(mark, 2);
    for (const l of logged) {
      expect(l).toMatch(
        /user="carol" env=\(denied\) requested=- reason="the legacy tree has no GPU drivers: use the batch partition" layer=group:legacy backend=none us=\d+ job=\d+ step=0$/,
      );
    }
    expect(await site.ns.syslogSince(mark)).toContain("authpriv.notice");
  });

  test("sbatch -p gpu as carol: the job fails and its output says why", async () => {
    const b = await runBatch(cluster, "carol", ["-p", "gpu"], "echo ran");
    expect(b.state).toBe("FAILED");
    expect(b.output).toContain(`${REASON}\n`);
    expect(b.output).not.toContain("ran");
  });
});

describe("a policy fault follows on_error", () => {
  let throwing: string;
  let looping: string;
  beforeAll(() => {
    throwing = path.join(path.dirname(site.policy), "throws.js");
    looping = path.join(path.dirname(site.policy), "loops.js");
    writeConfig(throwing, rawBundle('throw new Error("broken policy");'));
    writeConfig(looping, rawBundle("for (;;) {}"));
  });
  afterAll(() => {
    fs.rmSync(throwing, { force: true });
    fs.rmSync(looping, { force: true });
  });
  const args = (policy: string, onError: string, catalogue = site.catalogue) => [
    `catalogue=${catalogue}`,
    `policy=${policy}`,
    `root=${site.root}`,
    `job_views=${site.jobViews}`,
    `on_error=${onError}`,
  ];

  test.each([
    ["host", ` ${PRETTY.host}`, 'env=(host) requested=tiny reason="on_error=host"'],
    ["default", `default ${PRETTY.trixie}`, 'env=default requested=tiny reason="on_error=default"'],
  ])("on_error=%s: the step runs there, the fault logged", async (onError, where, fields) => {
    cluster.setSpankArgs(args(throwing, onError));
    const mark = site.ns.syslogMark();
    const r = cluster.run("alice", ["srun", "--chos=tiny", "sh", "-c", TREE]);
    expect(r.status).toBe(0);
    // On the host there is no environment: spank_chos unsets $CHOS.
    expect(r.stdout).toBe(`${where}\n`);
    const [line] = await stepLines(mark, 1);
    expect(line).toContain(fields);
    expect(line).toMatch(
      /failed=policy fault=throw on_error=\w+ error="policy throw: .*broken policy.*" job=\d+ step=0$/,
    );
  });

  test("a step on the host has no $CHOS, though the submitter's session had one", () => {
    cluster.setSpankArgs(args(throwing, "host"));
    const r = cluster.run("alice", ["srun", "sh", "-c", `echo "\${CHOS-unset}"; ${TREE}`], { env: { CHOS: "tiny" } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`unset\n ${PRETTY.host}\n`);
  });

  test("a tree that cannot be entered (the view's helper fails) follows on_error=default", async () => {
    const broken = path.join(site.dir, "chos-broken");
    writeConfig(broken, `%SHELLS\ntrixie:${site.dir}/no-such-tree\ndefault:${site.trees.trixie}\n`);
    cluster.setSpankArgs(args(site.policy, "default", broken));
    try {
      const mark = site.ns.syslogMark();
      const r = cluster.run("alice", ["srun", "sh", "-c", TREE]);
      expect(r.stdout).toBe(`default ${PRETTY.trixie}\n`);
      const [line] = await stepLines(mark, 1);
      expect(line).toContain('env=default requested=- reason="on_error=default" layer=default backend=namespace');
      expect(line).toContain(
        `failed=apply on_error=default error="namespace backend: tree ${site.dir}/no-such-tree: No such file or directory; create it or fix the catalogue"`,
      );
    } finally {
      fs.rmSync(broken, { force: true });
    }
  });

  // A step's request (its tree built while the policy decides, view.h) whose tree cannot be
  // entered: granted, that is the step's apply failure, as for any tree; refused by the policy,
  // the build made ahead is dropped and the policy's own tree is built.
  test("a requested tree that cannot be entered: granted, on_error decides; refused, the policy's tree", async () => {
    const broken = path.join(site.dir, "chos-broken-request");
    writeConfig(
      broken,
      `%SHELLS\ntrixie:${site.dir}/no-such-tree\ntiny:${site.trees.tiny}\ndefault:${site.trees.tiny}\n`,
    );
    cluster.setSpankArgs(args(site.policy, "default", broken));
    try {
      const mark = site.ns.syslogMark();
      const granted = cluster.run("alice", ["srun", "--chos=trixie", "sh", "-c", TREE]);
      expect(granted.stdout).toBe(`default ${PRETTY.tiny}\n`);
      const refused = cluster.run("bob", ["srun", "--chos=trixie", "sh", "-c", TREE]);
      expect(refused.stdout).toBe(`tiny ${PRETTY.tiny}\n`);
      const [first, second] = await stepLines(mark, 2);
      expect(first).toContain(
        `failed=apply on_error=default error="namespace backend: tree ${site.dir}/no-such-tree: No such file or directory; create it or fix the catalogue"`,
      );
      expect(second).toContain('env=tiny requested=trixie reason="the certified solver runs on tiny only"');
      expect(second).not.toContain("failed=");
    } finally {
      fs.rmSync(broken, { force: true });
    }
  });

  // The view's first half (ROOT's checks, the namespace) runs while the policy decides; its
  // failure is the step's apply failure, said as a whole build would say it.
  test("a root chos setup never laid out (the view's first half fails) follows on_error=host", async () => {
    const bare = path.join(site.dir, "bare-root");
    fs.mkdirSync(bare, { mode: 0o755 });
    cluster.setSpankArgs([
      `catalogue=${site.catalogue}`,
      `policy=${site.policy}`,
      `root=${bare}`,
      `job_views=${site.jobViews}`,
      "backend=namespace",
      "on_error=host",
    ]);
    try {
      const mark = site.ns.syslogMark();
      const r = cluster.run("alice", ["srun", "sh", "-c", TREE]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(` ${PRETTY.host}\n`);
      const [line] = await stepLines(mark, 1);
      expect(line).toContain('env=(host) requested=- reason="on_error=host"');
      expect(line).toContain(
        `failed=apply on_error=host error="namespace backend: link ${bare}/.chos-link: No such file or directory; run \`chos setup\`"`,
      );
    } finally {
      fs.rmSync(bare, { recursive: true, force: true });
    }
  });

  test("on_error=deny: the step fails with on_error=deny as the reason", () => {
    cluster.setSpankArgs(args(throwing, "deny"));
    const r = cluster.run("alice", ["srun", "sh", "-c", "echo ran"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("chos: step refused: on_error=deny\n");
  });

  test("a policy that never returns is stopped by the deadline, then on_error=host", async () => {
    cluster.setSpankArgs(args(looping, "host"));
    const mark = site.ns.syslogMark();
    const r = cluster.run("alice", ["srun", "sh", "-c", TREE]);
    expect(r.stdout).toBe(` ${PRETTY.host}\n`);
    const [line] = await stepLines(mark, 1);
    expect(line).toContain("failed=policy fault=timeout on_error=host");
  });

  // spank_chos.so is the front srun loads; slurmstepd loads spank_chos_step.so beside it, as
  // root, only once it passes the trust rule.
  test.each([
    ["missing", (step: string) => fs.rmSync(step), /spank_chos_step\.so: .*No such file/],
    ["writable by its group", (step: string) => fs.chmodSync(step, 0o664), /writable by group/],
  ])("a step plugin %s: srun submits, and every task fails with the reason, logged", async (_what, breakIt, reason) => {
    // Under /var/lib, root's 0755: the copies pass the trust rule until broken.
    const dir = fs.mkdtempSync("/var/lib/chos-spank-");
    fs.chmodSync(dir, 0o755);
    for (const f of ["spank_chos.so", "spank_chos_step.so"])
      fs.copyFileSync(path.join(path.dirname(SPANK_CHOS), f), path.join(dir, f));
    breakIt(path.join(dir, "spank_chos_step.so"));
    cluster.setSpankArgs(site.moduleArgs(), path.join(dir, "spank_chos.so"));
    try {
      const mark = site.ns.syslogMark();
      const r = cluster.run("alice", ["srun", "sh", "-c", "echo ran"]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(
        new RegExp(`chos: step refused: spank_chos could not load its step plugin: .*${reason.source}`),
      );
      expect(await site.ns.syslogSince(mark, reason)).toMatch(new RegExp(`spank_chos: .*${reason.source}`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a plugstack typo: srun and sbatch refuse to submit, saying which argument", () => {
    cluster.setSpankArgs([...site.moduleArgs(), "on_eror=host"]);
    const message = 'spank_chos: unknown argument "on_eror=host": step refused; see plugstack.conf';
    const r = cluster.run("alice", ["srun", "sh", "-c", "echo ran"]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
    const b = cluster.run("alice", ["sbatch", "--wrap", "echo ran"]);
    expect(b.status).not.toBe(0);
    expect(b.stderr).toContain(message);
  });
});

// The tree in a step's view is a slave of the host's mounts: what the host mounts in it later
// (an automounted dataset) reaches a running step, and what is mounted in the view stays there.
// Both ways a view is made (view.h): the requested tree built while the policy decides, and the
// tree decided with none requested, copied on the host and attached to a view whose ROOT was
// entered meanwhile.
describe("a running step's view and the host's mounts", () => {
  test.each([
    ["the tree requested", ["--chos=trixie"]],
    ["the tree decided with no request", []],
  ])("%s: the host's new mount reaches the step, the step's stays in its view", async (_, request) => {
    const step = cluster.runAsync("alice", ["srun", ...request, "sleep", "300"]);
    const hostMount = path.join(site.trees.trixie, "mnt");
    const task = () => site.ns.run(["pgrep", "-u", "alice", "-x", "sleep"]).stdout.trim().split("\n")[0];
    let pid = "";
    try {
      await until(() => {
        pid = task();
        return pid !== "";
      }, "the step's task");
      const inView = (cmd: string[]) => site.ns.run(["nsenter", "-t", pid, "-m", ...cmd]);
      expect(site.ns.run(["mount", "-t", "tmpfs", "chos-from-host", hostMount]).status).toBe(0);
      expect(inView(["cat", "/proc/self/mountinfo"]).stdout).toMatch(/ \/\.chos-link\/mnt .* chos-from-host /);
      expect(inView(["mount", "-t", "tmpfs", "chos-from-view", "/.chos-link/opt"]).status).toBe(0);
      expect(inView(["cat", "/proc/self/mountinfo"]).stdout).toContain("chos-from-view");
      expect(site.ns.mountinfo()).not.toContain("chos-from-view");
    } finally {
      site.ns.run(["umount", hostMount]);
      cluster.run("root", ["scancel", "-u", "alice"]);
      await step;
      // Its task ends after srun returns: the next case must not find it.
      await until(() => task() === "", "the end of the step's task");
    }
  });
});
