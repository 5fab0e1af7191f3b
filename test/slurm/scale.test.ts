// spank_chos at scale, in a real Slurm (test/slurm/lib/cluster): a step's tasks share one
// mount namespace however many there are (the view is built once, each task only setns()es),
// steps leave nothing behind in the host's mount table nor any helper process, and concurrent
// steps each land where the policy says.
import * as fs from "node:fs";
import type { TestSite } from "../system/lib/site";
import { PRETTY } from "../system/lib/trees";
import { type SlurmCluster, until } from "./lib/cluster";
import { slurmSuite } from "./lib/suite";

let site: TestSite;
let cluster: SlurmCluster;
slurmSuite({}, (s, c) => {
  site = s;
  cluster = c;
});

/** The mount table without its ids, which a remount would change. */
function mounts(): string[] {
  return site.ns
    .mountinfo()
    .trim()
    .split("\n")
    .map((l) => l.split(" ").slice(3).join(" "))
    .sort();
}

test("srun -n16: every task of the step is in one mount namespace, not the host's", () => {
  const r = cluster.run("alice", ["srun", "-N1", "-n16", "readlink", "/proc/self/ns/mnt"]);
  expect(r.stderr).toBe("");
  const namespaces = new Set(r.stdout.trim().split("\n"));
  expect(r.stdout.trim().split("\n")).toHaveLength(16);
  expect(namespaces.size).toBe(1);
  const host = site.ns.run(["readlink", "/proc/self/ns/mnt"]).stdout.trim();
  expect(namespaces.has(host)).toBe(false);
});

test("100 steps leave the host's mount table as it was, and no process behind", async () => {
  const before = mounts();
  const script = "for i in $(seq 100); do srun -n1 true || exit 1; done; echo done";
  const r = await cluster.runAsync("alice", ["salloc", "-N1", "sh", "-c", script]);
  expect(r.stdout).toBe("done\n");
  expect(mounts()).toEqual(before);
  // Only the daemons are left: no slurmstepd, task or view helper outlived its step. A step's
  // slurmstepd may still be ending after salloc returns (Slurm reaps it asynchronously, which
  // takes longer on a loaded machine), so wait for that; one that never ends fails.
  const comm = (pid: number): string => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
      return "gone";
    }
  };
  const daemons = ["munged", "slurmctld", "slurmd", "slurmscriptd", "gone"];
  const others = (): string[] =>
    cluster
      .leftovers()
      .map(comm)
      .filter((c) => !daemons.includes(c));
  await until(
    () => others().length === 0,
    () => `the end of every step's processes (left: ${others().join(" ")})`,
  );
}, 120_000);

test("50 concurrent steps each land where the policy says", async () => {
  const users = ["alice", "bob", "carol", "dave", "erin"];
  const expected: Record<string, string> = {
    alice: PRETTY.trixie,
    bob: PRETTY.tiny,
    carol: PRETTY.tiny,
    dave: PRETTY.trixie,
    erin: PRETTY.trixie,
  };
  const runs = Array.from({ length: 50 }, (_, i) => users[i % users.length]).map(async (user) => {
    const r = await cluster.runAsync(user, ["srun", "-N1", "grep", "^PRETTY_NAME=", "/etc/os-release"]);
    return { user, status: r.status, pretty: r.stdout.trim().replace(/^PRETTY_NAME="(.*)"$/, "$1") };
  });
  const results = await Promise.all(runs);
  expect(results.filter((r) => r.status !== 0 || r.pretty !== expected[r.user])).toEqual([]);
}, 120_000);
