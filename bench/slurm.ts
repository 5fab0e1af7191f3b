// `npm run bench:slurm` (root): what spank_chos adds to a Slurm step, in one real cluster
// (test/slurm/lib/cluster: munged, slurmctld, slurmd n1 and n2 in a private mount namespace).
//   1. `srun -N1 -n1 true` as alice (physics: the example policy puts her in trixie) with the
//      plugstack line vs without it (plugstack.conf emptied: every srun and slurmstepd reads it
//      anew), same cluster: one step of each variant in turn, in a shuffled order, so drift hits
//      all alike; each ratio of medians comes with a 95% interval (a bootstrap over iterations).
//   2. `srun -N1 -n1 true` vs `-n16`, with the plugin: the view is built once per step, so the
//      plugin's own time per step (the log line's us=) must not grow with the tasks.
// Steps run in one allocation (`salloc -N1 -n16 --no-shell`), each `srun --jobid` timed around
// srun alone: its round trips to slurmctld and slurmd, slurmstepd, the tasks. Each is run as from
// alice's login session in trixie, the usual case: pam_chos exported CHOS=trixie there, and srun
// passes the environment on, so each step asks for the tree the policy gives it (and its view is
// built while the policy decides). A third row, with the plugin, is a step with no $CHOS: no
// request. A fourth names spank_chos_step.so itself in plugstack.conf: the one 4.4 MB plugin srun
// too loaded before the front (spank_front.c), so the front's gain is seen in the same run.
// Printed, never asserted: the goals are in issue 8.

import * as path from "node:path";
import { SlurmCluster, SPANK_CHOS } from "../test/slurm/lib/cluster";
import { TestSite } from "../test/system/lib/site";
import { acquireTestUsers } from "../test/system/lib/users";

/** Iterations of the four launch variants, each iteration in its own shuffled order. */
const ITERATIONS = 150;
/** Steps of each task count, in blocks of TASK_BLOCK alternating -n1 and -n16. */
const TASK_STEPS = 100;
const TASK_BLOCK = 10;
const USER = "alice";
/** The step plugin beside the front: named alone, it is the whole plugin, core and all. */
const STEP_PLUGIN = path.join(path.dirname(SPANK_CHOS), "spank_chos_step.so");
/** Resamples for the ratios' intervals. */
const RESAMPLES = 2000;

const VARIANTS = ["without", "with", "unrequested", "whole"] as const;
type Variant = (typeof VARIANTS)[number];

function median(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** A small seeded generator (mulberry32): the same shuffles and resamples in every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The ratio of medians num/den and its 95% interval: iterations resampled whole (a bootstrap
 * that keeps each iteration's pair together, so the drift both saw stays out of the ratio). */
function ratio(num: readonly number[], den: readonly number[], random: () => number): [number, number, number] {
  const estimates: number[] = [];
  for (let r = 0; r < RESAMPLES; r++) {
    const pick = Array.from({ length: num.length }, () => Math.floor(random() * num.length));
    estimates.push(median(pick.map((i) => num[i])) / median(pick.map((i) => den[i])));
  }
  estimates.sort((a, b) => a - b);
  const at = (q: number) => estimates[Math.min(RESAMPLES - 1, Math.floor(q * RESAMPLES))];
  return [median(num) / median(den), at(0.025), at(0.975)];
}

/** An allocation for USER with 16 CPUs on one node, which every step below runs in. */
async function allocate(cluster: SlurmCluster): Promise<string> {
  const r = await cluster.runAsync(USER, ["salloc", "-N1", "-n16", "--no-shell"]);
  const job = /Granted job allocation (\d+)/.exec(r.stderr)?.[1];
  if (r.status !== 0 || !job) throw new Error(`salloc failed (${r.status}): ${r.stderr}`);
  return job;
}

/** Wall milliseconds of one `srun --jobid=JOB ARGS true` as USER, timed around srun alone:
 * srun's round trips to slurmctld and slurmd, slurmstepd, the tasks. ENV is the step's: the
 * usual case is a session in trixie, where pam_chos exported CHOS=trixie, which srun passes on. */
async function step(
  cluster: SlurmCluster,
  job: string,
  args: readonly string[],
  env: Record<string, string> = { CHOS: "trixie" },
): Promise<number> {
  const script = `s=$(date +%s%N); srun --jobid=${job} ${args.join(" ")} true || exit 1; echo $(($(date +%s%N) - s))`;
  const r = await cluster.runAsync(USER, ["sh", "-c", script], { env });
  if (r.status !== 0) throw new Error(`srun ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return Number(r.stdout.trim()) / 1e6;
}

/** The plugin's own microseconds (us= of its log lines) of each step of JOB logged since mark,
 * by step id. */
async function pluginMicros(site: TestSite, mark: number, job: string): Promise<Map<number, number>> {
  const text = await site.ns.syslogSince(mark);
  const micros = new Map<number, number>();
  for (const m of text.matchAll(/spank_chos: user=.* us=(\d+) job=(\d+) step=(\d+)/g))
    if (m[2] === job) micros.set(Number(m[3]), Number(m[1]));
  return micros;
}

/** Sets plugstack.conf for VARIANT: empty, the front, or the step plugin named itself. */
function configure(site: TestSite, cluster: SlurmCluster, variant: Variant): void {
  cluster.setSpankArgs(
    variant === "without" ? null : site.moduleArgs(),
    variant === "whole" ? STEP_PLUGIN : SPANK_CHOS,
  );
}

/** Wall milliseconds of each variant's steps. Every srun of the allocation is listed in ORDER,
 * so a step's id (its place in the allocation: 0, 1, ...) says which variant it was. */
async function launches(
  site: TestSite,
  cluster: SlurmCluster,
  job: string,
  order: Variant[],
): Promise<Record<Variant, number[]>> {
  const random = seeded(8);
  const wall: Record<Variant, number[]> = { without: [], with: [], unrequested: [], whole: [] };
  for (let i = 0; i < ITERATIONS; i++) {
    for (const variant of shuffled(VARIANTS, random)) {
      configure(site, cluster, variant);
      order.push(variant);
      wall[variant].push(await step(cluster, job, ["-N1", "-n1"], variant === "unrequested" ? {} : undefined));
    }
  }
  return wall;
}

async function taskCounts(
  site: TestSite,
  cluster: SlurmCluster,
  job: string,
  order: Variant[],
): Promise<{ wall: Record<1 | 16, number[]>; steps: Record<1 | 16, number[]> }> {
  const wall = { 1: [] as number[], 16: [] as number[] };
  const steps = { 1: [] as number[], 16: [] as number[] };
  configure(site, cluster, "with");
  for (let done = 0; done < TASK_STEPS; done += TASK_BLOCK) {
    for (const n of [1, 16] as const) {
      for (let k = 0; k < TASK_BLOCK; k++) {
        steps[n].push(order.length);
        order.push("with");
        wall[n].push(await step(cluster, job, ["-N1", `-n${n}`]));
      }
    }
  }
  return { wall, steps };
}

/** The plugin's microseconds of the steps listed, checked against ORDER: a step the plugin
 * logged must be one that ran with it. */
function microsOf(micros: Map<number, number>, order: readonly Variant[], ids: readonly number[]): number[] {
  for (const id of micros.keys())
    if (order[id] === "without")
      throw new Error(`step ${id} ran without spank_chos and logged: step ids are not in srun order`);
  return ids.flatMap((id) => (micros.has(id) ? [micros.get(id) as number] : []));
}

async function measure(site: TestSite, cluster: SlurmCluster): Promise<void> {
  const mark = site.ns.syslogMark();
  const job = await allocate(cluster);
  const order: Variant[] = [];
  const wall = await launches(site, cluster, job, order);
  const tasks = await taskCounts(site, cluster, job, order);
  cluster.run("root", ["scancel", job]);
  const micros = await pluginMicros(site, mark, job);
  const idsOf = (variant: Variant) =>
    order.flatMap((v, id) => (v === variant && id < ITERATIONS * VARIANTS.length ? [id] : []));

  const random = seeded(12);
  const f = (n: number, d = 1) => n.toFixed(d).padStart(10);
  const row = (label: string, variant: Variant, note: string) => {
    const [r, lo, hi] = ratio(wall[variant], wall.without, random);
    const us = median(microsOf(micros, order, idsOf(variant)));
    console.log(
      `${label.padEnd(22)}${f(median(wall[variant]))}${f(us, 0)}${f(r, 3)}   ${lo.toFixed(3)}-${hi.toFixed(3)}   ${note}`,
    );
  };
  console.log(
    `srun -N1 -n1 true as ${USER} (-> trixie, namespace backend): ${ITERATIONS} steps of each, one of each in turn, in a shuffled order`,
  );
  console.log(
    `${"".padEnd(22)}${"median ms".padStart(10)}${"plugin µs".padStart(10)}${"ratio".padStart(10)}   95% interval`,
  );
  console.log(`${"without spank_chos".padEnd(22)}${f(median(wall.without))}`);
  row("with spank_chos", "with", "(goal: <= 1.05)");
  row("with, no $CHOS", "unrequested", "(no request: ROOT entered meanwhile, the tree attached after the policy)");
  row("step plugin named", "whole", "(spank_chos_step.so in plugstack: srun loads 4.4 MB)");
  console.log("");
  console.log(`tasks per step, with spank_chos, ${tasks.wall[1].length} steps each`);
  console.log(`${"".padEnd(22)}${"median ms".padStart(10)}${"plugin µs".padStart(10)}`);
  const taskMicros = {
    1: median(microsOf(micros, order, tasks.steps[1])),
    16: median(microsOf(micros, order, tasks.steps[16])),
  };
  for (const n of [1, 16] as const) {
    console.log(`${`srun -N1 -n${n}`.padEnd(22)}${f(median(tasks.wall[n]))}${f(taskMicros[n], 0)}`);
  }
  console.log(
    `${"ratio -n16 / -n1".padEnd(22)}${f(median(tasks.wall[16]) / median(tasks.wall[1]), 2)}${f(taskMicros[16] / taskMicros[1], 2)}   (plugin µs: the decision and the view, once per step)`,
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
