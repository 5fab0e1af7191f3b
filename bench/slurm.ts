// `npm run bench:slurm` (root): what spank_chos adds to a Slurm step, in one real cluster
// (test/slurm/lib/cluster: munged, slurmctld, slurmd n1 and n2 in a private mount namespace).
//   1. `srun -N1 -n1 true` as alice (physics: the example policy puts her in trixie) with the
//      plugstack line vs without it (plugstack.conf emptied: every srun and slurmstepd reads it
//      anew), same cluster, rounds alternating so drift hits both alike.
//   2. `srun -N1 -n1 true` vs `-n16`, with the plugin: the view is built once per step, so the
//      plugin's own time per step (the log line's us=) must not grow with the tasks.
// Steps are timed in the allocation's shell (`salloc -N1 -n16`): srun's round trips to slurmctld
// and slurmd, slurmstepd, the tasks. The allocation is made as from alice's login session in
// trixie, the usual case: pam_chos exported CHOS=trixie there, and Slurm passes the
// environment on, so each step asks for the tree the policy gives it (and its view is built
// while the policy decides). A third row, with the plugin, is an allocation with no $CHOS: no
// request. A fourth names spank_chos_step.so itself in plugstack.conf: the one 4.4 MB plugin srun
// too loaded before the front (spank_front.c), so the front's gain is seen in the same run.
// Printed, never asserted: the goals are in issue 8.

import * as path from "node:path";
import { SlurmCluster, SPANK_CHOS } from "../test/slurm/lib/cluster";
import { TestSite } from "../test/system/lib/site";
import { acquireTestUsers } from "../test/system/lib/users";

const ROUNDS = 10;
const STEPS_PER_ROUND = 20;
const USER = "alice";
/** The step plugin beside the front: named alone, it is the whole plugin, core and all. */
const STEP_PLUGIN = path.join(path.dirname(SPANK_CHOS), "spank_chos_step.so");

function median(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Wall milliseconds of each of COUNT `srun ARGS true` as USER, timed inside one allocation
 * (`salloc -N1 -n16`), so the figures are the step's launch and not the job's allocation. */
async function steps(
  cluster: SlurmCluster,
  args: readonly string[],
  count: number,
  env: Record<string, string> = { CHOS: "trixie" },
): Promise<number[]> {
  const script = `for i in $(seq ${count}); do s=$(date +%s%N); srun ${args.join(" ")} true || exit 1; echo $(($(date +%s%N) - s)); done`;
  // 16 CPUs in every allocation, so -n1 and -n16 run in the same one.
  const r = await cluster.runAsync(USER, ["salloc", "-N1", "-n16", "--quiet", "sh", "-c", script], { env });
  if (r.status !== 0) throw new Error(`srun ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout
    .trim()
    .split("\n")
    .map((ns) => Number(ns) / 1e6);
}

/** The plugin's own microseconds per step (us= of its log lines) logged since mark. */
async function pluginMicros(site: TestSite, mark: number): Promise<number[]> {
  const text = await site.ns.syslogSince(mark);
  return [...text.matchAll(/spank_chos: user=.* us=(\d+) job=/g)].map((m) => Number(m[1]));
}

async function measure(site: TestSite, cluster: SlurmCluster): Promise<void> {
  const wall = { with: [] as number[], without: [] as number[], unrequested: [] as number[], whole: [] as number[] };
  const tasks = { 1: [] as number[], 16: [] as number[] };
  const micros = { 1: [] as number[], 16: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = ["without", "with", "unrequested", "whole"] as const;
    for (const variant of round % 2 ? [...order].reverse() : order) {
      cluster.setSpankArgs(
        variant === "without" ? null : site.moduleArgs(),
        variant === "whole" ? STEP_PLUGIN : SPANK_CHOS,
      );
      const env = variant === "unrequested" ? {} : undefined;
      wall[variant].push(...(await steps(cluster, ["-N1", "-n1"], STEPS_PER_ROUND, env)));
    }
    cluster.setSpankArgs(site.moduleArgs());
    for (const n of [1, 16] as const) {
      const mark = site.ns.syslogMark();
      tasks[n].push(...(await steps(cluster, ["-N1", `-n${n}`], STEPS_PER_ROUND / 2)));
      micros[n].push(...(await pluginMicros(site, mark)));
    }
  }
  const f = (n: number, d = 1) => n.toFixed(d).padStart(10);
  const w = {
    with: median(wall.with),
    without: median(wall.without),
    unrequested: median(wall.unrequested),
    whole: median(wall.whole),
  };
  console.log(`srun -N1 -n1 true as ${USER} (-> trixie, namespace backend), ${wall.with.length} steps each`);
  console.log(`${"".padEnd(22)}${"median ms".padStart(10)}`);
  console.log(`${"without spank_chos".padEnd(22)}${f(w.without)}`);
  console.log(`${"with spank_chos".padEnd(22)}${f(w.with)}`);
  console.log(`${"ratio".padEnd(22)}${f(w.with / w.without, 3)}   (goal: <= 1.05)`);
  console.log(`${"with, no $CHOS".padEnd(22)}${f(w.unrequested)}`);
  console.log(
    `${"ratio".padEnd(22)}${f(w.unrequested / w.without, 3)}   (no request: the tree's half waits for the policy)`,
  );
  console.log(`${"step plugin named".padEnd(22)}${f(w.whole)}`);
  console.log(
    `${"ratio".padEnd(22)}${f(w.whole / w.without, 3)}   (spank_chos_step.so in plugstack: srun loads 4.4 MB)`,
  );
  console.log("");
  console.log(`tasks per step, with spank_chos, ${tasks[1].length} steps each`);
  console.log(`${"".padEnd(22)}${"median ms".padStart(10)}${"plugin µs".padStart(10)}`);
  for (const n of [1, 16] as const) {
    console.log(`${`srun -N1 -n${n}`.padEnd(22)}${f(median(tasks[n]))}${f(median(micros[n]), 0)}`);
  }
  console.log(
    `${"ratio -n16 / -n1".padEnd(22)}${f(median(tasks[16]) / median(tasks[1]), 2)}${f(median(micros[16]) / median(micros[1]), 2)}   (plugin µs: the decision and the view, once per step)`,
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench:slurm must run as root (slurmd, mounts)");
  const release = acquireTestUsers();
  let site: TestSite | undefined;
  let cluster: SlurmCluster | undefined;
  try {
    site = await TestSite.create();
    cluster = await SlurmCluster.start(site);
    await measure(site, cluster);
  } finally {
    await cluster?.stop();
    site?.close();
    release();
  }
}

main().catch((e: Error) => {
  console.error(`bench:slurm: ${e.message}`);
  process.exitCode = 1;
});
