// A real Slurm 22.05 cluster for one test suite (or bench), inside the suite's TestNamespace:
// munged, slurmctld and one slurmd per node name (`slurmd -N n1`, `-N n2`: Debian builds Slurm
// with multiple-slurmd), all on loopback, all started directly (no systemd) in the foreground
// and stopped by stop(), which also ends any slurmstepd or task that outlived its slurmd (found
// by this cluster's SLURM_CONF in their environment). Everything lives in a temp dir under
// /tmp: `chos setup` binds /tmp into the root, so the batch script slurmd spools there and the
// job's output files are visible from inside a tree, as the README tells sites to arrange.
import type { ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { RunOptions, RunResult } from "../../system/lib/namespace";
import { freePort } from "../../system/lib/net";
import { NATIVE, type TestSite, writeConfig } from "../../system/lib/site";

export const SPANK_CHOS = path.join(NATIVE, "spank_chos.so");
/** The test cluster's partitions: `batch` (the default) and `gpu`, both on every node. */
export const PARTITIONS = ["batch", "gpu"] as const;
/** CPUs each node claims (config_overrides): room for 50 concurrent steps and -n16. */
const NODE_CPUS = 64;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for what Slurm does after a command returns (a job's end, a slurmstepd's exit, a
 *  pin's removal), polling for up to 15 s; throws naming what did not happen (what() is read
 *  then, so it can say what is still there). */
export async function until(ready: () => boolean, what: string | (() => string)): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (ready()) return;
    await sleep(50);
  }
  throw new Error(`${typeof what === "string" ? what : what()} did not happen`);
}

export interface ClusterOptions {
  /** Node names, one slurmd each (default n1, n2). */
  readonly nodes?: readonly string[];
  /** spank_chos's plugstack arguments; null: no plugstack line (the bench's baseline). */
  readonly spankArgs?: readonly string[] | null;
  /** Each slurmd in a PID namespace of its own (as in a container), whose pids /proc does not
   *  show: slurmstepd's children must still find their own namespaces. */
  readonly slurmdPidNamespace?: boolean;
  /** Per node, users its slurmd's NSS does not know (a node whose directory service lags): that
   *  slurmd runs in a mount namespace of its own with /etc/passwd bound over by a copy
   *  without them, so the plugin's user lookup fails there. */
  readonly unknownUsers?: Readonly<Record<string, readonly string[]>>;
  /** Per node, group memberships its slurmd's NSS lacks ({ n2: { physics: ["dave"] } }): that
   *  slurmd's /etc/group is bound over by a copy without those members, while slurmctld, which
   *  looks up the job's groups for its credential, still sees them. */
  readonly droppedMembers?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** What pam_slurm_adopt needs: each job's extern step (PrologFlags=contain) and
   *  proctrack/cgroup on the host's cgroup v1 hierarchies (cgroup.conf beside slurm.conf). */
  readonly contain?: boolean;
}

export class SlurmCluster {
  private readonly daemons: ChildProcess[] = [];

  private constructor(
    readonly site: TestSite,
    /** The cluster's directory: slurm.conf, plugstack.conf, spools, logs, munge. */
    readonly dir: string,
    readonly nodes: readonly string[],
    private readonly slurmdPidNamespace: boolean,
    private readonly unknownUsers: Readonly<Record<string, readonly string[]>>,
    private readonly droppedMembers: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>,
    private readonly contain: boolean,
  ) {}

  get conf(): string {
    return path.join(this.dir, "slurm.conf");
  }
  get plugstack(): string {
    return path.join(this.dir, "plugstack.conf");
  }
  /** A directory every test user may write, visible on the host and in every tree. */
  get work(): string {
    return path.join(this.dir, "work");
  }

  static async start(site: TestSite, opts: ClusterOptions = {}): Promise<SlurmCluster> {
    const dir = fs.mkdtempSync("/tmp/chos-slurm-");
    fs.chmodSync(dir, 0o755);
    const cluster = new SlurmCluster(
      site,
      dir,
      opts.nodes ?? ["n1", "n2"],
      opts.slurmdPidNamespace ?? false,
      opts.unknownUsers ?? {},
      opts.droppedMembers ?? {},
      opts.contain ?? false,
    );
    try {
      await cluster.configure(opts.spankArgs === undefined ? site.moduleArgs() : opts.spankArgs);
      await cluster.startDaemons();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** Rewrites plugstack.conf: every srun, sbatch and slurmstepd reads it anew. plugin: the
   *  front's path (its step plugin beside it). */
  setSpankArgs(args: readonly string[] | null, plugin = SPANK_CHOS): void {
    writeConfig(this.plugstack, args === null ? "" : `required ${plugin} ${args.join(" ")}\n`);
  }

  private async configure(spankArgs: readonly string[] | null): Promise<void> {
    for (const d of ["munge", "state", "spool", "work"]) fs.mkdirSync(path.join(this.dir, d));
    for (const n of this.nodes) fs.mkdirSync(path.join(this.dir, "spool", n));
    fs.chmodSync(path.join(this.dir, "munge"), 0o755);
    fs.chmodSync(this.work, 0o1777);
    fs.writeFileSync(path.join(this.dir, "munge", "key"), crypto.randomBytes(1024), { mode: 0o400 });
    const ctld = await freePort();
    const lines = [
      "ClusterName=chostest",
      `SlurmctldHost=localhost`,
      `SlurmctldPort=${ctld}`,
      "AuthType=auth/munge",
      "CredType=cred/munge",
      `AuthInfo=socket=${this.dir}/munge/sock`,
      "SlurmUser=root",
      "SlurmdUser=root",
      `StateSaveLocation=${this.dir}/state`,
      `SlurmdSpoolDir=${this.dir}/spool/%n`,
      `SlurmctldPidFile=${this.dir}/slurmctld.pid`,
      `SlurmdPidFile=${this.dir}/slurmd-%n.pid`,
      `SlurmctldLogFile=${this.dir}/slurmctld.log`,
      `SlurmdLogFile=${this.dir}/slurmd-%n.log`,
      "SlurmdParameters=config_overrides",
      ...(this.contain
        ? ["ProctrackType=proctrack/cgroup", "PrologFlags=contain"]
        : ["ProctrackType=proctrack/linuxproc"]),
      "TaskPlugin=task/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_CPU",
      "AccountingStorageType=accounting_storage/none",
      "JobAcctGatherType=jobacct_gather/none",
      "JobCompType=jobcomp/none",
      "MpiDefault=none",
      "ReturnToService=2",
      "SchedulerType=sched/builtin",
      "MinJobAge=5",
      "KillWait=1",
      `PlugStackConfig=${this.plugstack}`,
    ];
    for (const n of this.nodes) {
      lines.push(`NodeName=${n} NodeHostname=localhost NodeAddr=127.0.0.1 Port=${await freePort()} CPUs=${NODE_CPUS}`);
    }
    for (const p of PARTITIONS) {
      lines.push(
        `PartitionName=${p} Nodes=${this.nodes.join(",")} Default=${p === "batch" ? "YES" : "NO"} MaxTime=INFINITE State=UP OverSubscribe=FORCE:64`,
      );
    }
    writeConfig(this.conf, `${lines.join("\n")}\n`);
    if (this.contain)
      writeConfig(path.join(this.dir, "cgroup.conf"), "CgroupPlugin=cgroup/v1\nCgroupMountpoint=/sys/fs/cgroup\n");
    this.setSpankArgs(spankArgs);
  }

  private daemon(argv: readonly string[]): void {
    const child = this.site.ns.spawn(["env", `SLURM_CONF=${this.conf}`, ...argv]);
    child.stdout?.resume();
    child.stderr?.resume();
    this.daemons.push(child);
  }

  private async startDaemons(): Promise<void> {
    const m = path.join(this.dir, "munge");
    this.daemon([
      "munged",
      "--foreground",
      "--force",
      `--key-file=${m}/key`,
      `--socket=${m}/sock`,
      `--pid-file=${m}/pid`,
      `--log-file=${m}/log`,
      `--seed-file=${m}/seed`,
    ]);
    await this.waitFor(() => fs.existsSync(`${m}/sock`), "munged");
    this.daemon(["slurmctld", "-D", "-i", "-f", this.conf]);
    await this.waitFor(() => this.run("root", ["sinfo", "-h"]).status === 0, "slurmctld");
    const pidns = this.slurmdPidNamespace ? ["unshare", "--pid", "--fork", "--kill-child"] : [];
    for (const n of this.nodes) this.daemon([...pidns, ...this.nodeNss(n), "slurmd", "-D", "-f", this.conf, "-N", n]);
    await this.waitFor(() => {
      const r = this.run("root", ["sinfo", "-h", "-N", "-o", "%N %t", "-p", "batch"]);
      return (
        r.stdout
          .trim()
          .split("\n")
          .filter((l) => / idle$/.test(l)).length === this.nodes.length
      );
    }, "slurmd");
  }

  /** The wrapper that gives that node's slurmd its own NSS files (none: []): /etc/passwd
   *  without unknownUsers[node], /etc/group without droppedMembers[node]. */
  private nodeNss(node: string): string[] {
    const hidden = this.unknownUsers[node] ?? [];
    const dropped = this.droppedMembers[node] ?? {};
    const copies: [string, string][] = [];
    if (hidden.length > 0) {
      const kept = fs
        .readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .filter((l) => !hidden.includes(l.split(":")[0]));
      copies.push(["/etc/passwd", kept.join("\n")]);
    }
    if (Object.keys(dropped).length > 0) {
      const edited = fs
        .readFileSync("/etc/group", "utf8")
        .split("\n")
        .map((l) => {
          const f = l.split(":");
          const drop = dropped[f[0]];
          if (!drop || f.length < 4) return l;
          f[3] = f[3]
            .split(",")
            .filter((m) => m && !drop.includes(m))
            .join(",");
          return f.join(":");
        });
      copies.push(["/etc/group", edited.join("\n")]);
    }
    if (copies.length === 0) return [];
    const binds = copies.map(([file, text]) => {
      const copy = path.join(this.dir, `${path.basename(file)}-${node}`);
      fs.writeFileSync(copy, text, { mode: 0o644 });
      return `mount --bind ${copy} ${file}`;
    });
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", `${binds.join(" && ")} && exec "$@"`, "sh"];
  }

  private async waitFor(ready: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 300; i++) {
      if (ready()) return;
      await sleep(50);
    }
    throw new Error(`${what} did not start; see ${this.dir}`);
  }

  /** The environment a user's Slurm commands run with (plus extra), from the work directory. */
  private argv(user: string, cmd: readonly string[], env: Record<string, string>): string[] {
    const vars = Object.entries({ SLURM_CONF: this.conf, ...env }).map(([k, v]) => `${k}=${v}`);
    return ["runuser", "-u", user, "--", "env", "-i", "-C", this.work, "PATH=/usr/bin:/bin", ...vars, ...cmd];
  }

  /** Runs a Slurm command (srun, sbatch, salloc...) as user, in the work directory. */
  run(user: string, cmd: readonly string[], opts: RunOptions = {}): RunResult {
    return this.site.ns.run(this.argv(user, cmd, opts.env ?? {}), { ...opts, env: {} });
  }

  /** As run, without blocking the event loop (concurrent steps). */
  runAsync(user: string, cmd: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.site.ns.runAsync(this.argv(user, cmd, opts.env ?? {}), { ...opts, env: {} });
  }

  /** What slurmd NODE logged so far (spank_chos's lines go to syslog and here). */
  slurmdLog(node: string): string {
    const f = path.join(this.dir, `slurmd-${node}.log`);
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
  }

  /** The pids of processes started for this cluster that are still alive (by SLURM_CONF). */
  leftovers(): number[] {
    const mine = `SLURM_CONF=${this.conf}`;
    const pids: number[] = [];
    for (const e of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(e)) continue;
      try {
        if (fs.readFileSync(`/proc/${e}/environ`, "utf8").split("\0").includes(mine)) pids.push(Number(e));
      } catch {
        // gone meanwhile, or a kernel thread
      }
    }
    return pids;
  }

  /** Cancels every job, stops the daemons (TERM, then KILL), ends what outlived them, removes dir. */
  async stop(): Promise<void> {
    const jobs = this.run("root", ["squeue", "-h", "-o", "%i"]).stdout.trim();
    if (jobs) this.run("root", ["scancel", ...jobs.split("\n")]);
    const running = () => this.daemons.filter((d) => d.exitCode === null && d.signalCode === null);
    for (const d of [...this.daemons].reverse()) d.kill("SIGTERM");
    for (let i = 0; i < 100 && running().length > 0; i++) await sleep(50);
    for (const d of running()) d.kill("SIGKILL");
    for (const pid of this.leftovers()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A finished batch job: its state and exit code as slurmctld reports them, and its output. */
export interface BatchResult {
  readonly id: number;
  /** "COMPLETED", "FAILED", ... */
  readonly state: string;
  /** "0:0", "1:0", ... */
  readonly exitCode: string;
  /** The job's output file (stdout and stderr). */
  readonly output: string;
}

/** Submits `sbatch ARGS --wrap SCRIPT` as user and waits for the job to end (polling the
 * controller every 50 ms: `sbatch --wait` polls at 2 s, then 8 s). */
export async function runBatch(
  cluster: SlurmCluster,
  user: string,
  args: readonly string[],
  script: string,
  opts: RunOptions = {},
): Promise<BatchResult> {
  const out = `${cluster.work}/batch-${user}-${Date.now()}-${Math.random().toString(36).slice(2)}.out`;
  const r = cluster.run(user, ["sbatch", "--parsable", "-o", out, ...args, "--wrap", script], opts);
  if (r.status !== 0) throw new Error(`sbatch failed (${r.status}): ${r.stderr}`);
  const id = Number(r.stdout.trim().split(";")[0]);
  for (let i = 0; i < 600; i++) {
    const show = cluster.run("root", ["scontrol", "-o", "show", "job", String(id)]).stdout;
    const state = /JobState=(\S+)/.exec(show)?.[1] ?? "";
    if (!["PENDING", "CONFIGURING", "RUNNING", "COMPLETING", ""].includes(state)) {
      const exitCode = /ExitCode=(\S+)/.exec(show)?.[1] ?? "";
      return { id, state, exitCode, output: fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "" };
    }
    await sleep(50);
  }
  throw new Error(`batch job ${id} did not end`);
}
