// A mount namespace per test suite, set up like a systemd host (every mount shared) but private
// to the test: `chos setup`, pamtester and sshd run inside it, so nothing they mount reaches
// the real host, and the namespace's own mount table is the "host" the leak tests compare.
// It has its own /dev/log (busybox syslogd writing DIR/syslog): tests read what was logged.
import { type ChildProcess, type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO } from "./repo";

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Extra environment variables (added to this process's). */
  readonly env?: Record<string, string>;
  readonly input?: string;
  readonly timeoutMs?: number;
}

const INIT = path.join(REPO, "test/system/lib/ns-init.sh");

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class TestNamespace {
  private constructor(
    /** Scratch directory of the namespace (syslog, init's files). */
    readonly dir: string,
    private readonly holder: ChildProcess,
  ) {}

  /** The pid whose mount namespace this is. */
  get pid(): number {
    return this.holder.pid!;
  }

  /** propagation 'private' reproduces a host without systemd (every mount private). */
  static async start(dir: string, propagation: "shared" | "private" = "shared"): Promise<TestNamespace> {
    fs.mkdirSync(dir, { recursive: true });
    // detached: its own process group, so stop() also ends syslogd and anything left inside.
    const holder = spawn("unshare", ["-m", "--propagation", propagation, INIT, dir], {
      stdio: ["ignore", "ignore", "inherit"],
      detached: true,
    });
    const ns = new TestNamespace(dir, holder);
    for (let i = 0; i < 500 && !fs.existsSync(path.join(dir, "ready")); i++) {
      if (holder.exitCode !== null) break;
      await sleep(10);
    }
    if (!fs.existsSync(path.join(dir, "ready"))) {
      ns.stop();
      throw new Error(`test namespace did not start (${INIT})`);
    }
    return ns;
  }

  private argv(cmd: readonly string[]): string[] {
    return ["-t", String(this.pid), "-m", "--", ...cmd];
  }

  /** Runs cmd inside the namespace and waits for it. */
  run(cmd: readonly string[], opts: RunOptions = {}): RunResult {
    const r: SpawnSyncReturns<string> = spawnSync("nsenter", this.argv(cmd), {
      encoding: "utf8",
      env: { ...process.env, ...opts.env },
      input: opts.input,
      timeout: opts.timeoutMs ?? 30_000,
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs cmd inside the namespace without blocking the event loop (for concurrency). */
  runAsync(cmd: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("nsenter", this.argv(cmd), {
        env: { ...process.env, ...opts.env },
        stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d) => (stdout += d));
      child.stderr!.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (status) => resolve({ status, stdout, stderr }));
      // A child that exits without reading its input is not an error of the harness.
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(opts.input);
    });
  }

  /** Starts a long-running process (sshd) inside the namespace. */
  spawn(cmd: readonly string[]): ChildProcess {
    return spawn("nsenter", this.argv(cmd), { stdio: ["ignore", "pipe", "pipe"] });
  }

  /** The namespace's mount table, as the leak tests compare it. */
  mountinfo(): string {
    return fs.readFileSync(`/proc/${this.pid}/mountinfo`, "utf8");
  }

  /** How much has been logged so far: pass it to syslogSince to read what comes after. */
  syslogMark(): number {
    return fs.statSync(path.join(this.dir, "syslog")).size;
  }

  /** The lines logged since mark (waits briefly: syslogd writes asynchronously). */
  async syslogSince(mark: number, expect?: RegExp): Promise<string> {
    let text = "";
    for (let i = 0; i < 100; i++) {
      const all = fs.readFileSync(path.join(this.dir, "syslog"));
      text = all.subarray(mark).toString("utf8");
      if (!expect || expect.test(text)) break;
      await sleep(20);
    }
    return text;
  }

  stop(): void {
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
