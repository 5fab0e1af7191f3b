// A real sshd for the tests, on 127.0.0.1 at a free high port, inside a site's namespace, with
// its own config, host key and PAM service name (sshd names its PAM service after its
// program name, so a symlink `chos-test-sshd-PID -> /usr/sbin/sshd` reads
// /etc/pam.d/chos-test-sshd-PID). Key authentication only, with one generated key per user.
import { type ChildProcess, execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { RunResult } from "./namespace";
import { canConnect, freePort } from "./net";
import { PAM_CHOS, type TestSite } from "./site";

export interface SshOptions {
  readonly env?: Record<string, string>;
  /** Extra ssh client options (-tt, -o SendEnv=CHOS...). */
  readonly args?: readonly string[];
  readonly input?: string;
}

export interface SshdOptions {
  /** PAM account lines before the permit (pam_slurm_adopt ...), given the service's name. */
  readonly account?: (service: string) => readonly string[];
  /** sshd's own environment, which its PAM modules see (SLURM_CONF for pam_slurm_adopt). */
  readonly env?: Record<string, string>;
}

export class TestSshd {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly service: string,
    private readonly proc: ChildProcess,
  ) {}

  /** Starts sshd in site's namespace; moduleArgs go to pam_chos in its session stack. */
  static async start(
    site: TestSite,
    users: readonly string[],
    moduleArgs: readonly string[],
    opts: SshdOptions = {},
  ): Promise<TestSshd> {
    const dir = path.join(site.dir, "sshd");
    fs.mkdirSync(path.join(dir, "keys"), { recursive: true });
    const service = `chos-test-sshd-${process.pid}`;
    const program = path.join(dir, service);
    fs.symlinkSync("/usr/sbin/sshd", program);
    fs.writeFileSync(
      `/etc/pam.d/${service}`,
      [
        "# Test sshd: keys only (auth is not PAM's), every account allowed, pam_chos in the session.",
        "auth required pam_deny.so",
        ...(opts.account?.(service) ?? []),
        "account required pam_permit.so",
        `session requisite ${PAM_CHOS} ${moduleArgs.join(" ")}`,
        "",
      ].join("\n"),
    );
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
    for (const user of users) {
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, `id_${user}`)]);
      fs.copyFileSync(path.join(dir, `id_${user}.pub`), path.join(dir, "keys", user));
    }
    const port = await freePort();
    fs.writeFileSync(
      path.join(dir, "sshd_config"),
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${dir}/host_key`,
        `PidFile ${dir}/sshd.pid`,
        "UsePAM yes",
        "AcceptEnv CHOS",
        "PubkeyAuthentication yes",
        `AuthorizedKeysFile ${dir}/keys/%u`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        // The keys live in the test dir, not the users' homes: no ownership checks to satisfy.
        "StrictModes no",
        "Subsystem sftp internal-sftp",
        "LogLevel VERBOSE",
        "",
      ].join("\n"),
    );
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const proc = site.ns.spawn(["env", ...env, program, "-D", "-f", path.join(dir, "sshd_config")]);
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    const sshd = new TestSshd(dir, port, service, proc);
    for (let i = 0; i < 200; i++) {
      if (await canConnect(port)) return sshd;
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    sshd.stop();
    throw new Error(`sshd did not start on port ${port}: ${stderr}`);
  }

  /** What ssh and sftp share: no user config, the user's generated key only, no prompts, no
   *  host key checks (the server's keys are made per run), errors only. */
  private clientOptions(user: string): string[] {
    const options = [
      "IdentitiesOnly=yes",
      "BatchMode=yes",
      "StrictHostKeyChecking=no",
      "UserKnownHostsFile=/dev/null",
      "LogLevel=ERROR",
    ];
    return ["-F", "/dev/null", "-i", path.join(this.dir, `id_${user}`), ...options.flatMap((o) => ["-o", o])];
  }

  /** ssh user@127.0.0.1 command..., with the user's generated key. */
  ssh(user: string, command: readonly string[], opts: SshOptions = {}): RunResult {
    const r = spawnSync(
      "ssh",
      [...this.clientOptions(user), "-p", String(this.port), ...(opts.args ?? []), `${user}@127.0.0.1`, ...command],
      { encoding: "utf8", env: { ...process.env, ...opts.env }, input: opts.input, timeout: 30_000 },
    );
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** sftp -b - user@127.0.0.1 with batch commands on stdin. */
  sftp(user: string, batch: string): RunResult {
    const r = spawnSync(
      "sftp",
      [...this.clientOptions(user), "-P", String(this.port), "-b", "-", `${user}@127.0.0.1`],
      { encoding: "utf8", input: batch, timeout: 30_000 },
    );
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  stop(): void {
    this.proc.kill("SIGTERM");
    try {
      const pid = Number(fs.readFileSync(path.join(this.dir, "sshd.pid"), "utf8"));
      if (pid > 0) process.kill(pid, "SIGTERM");
    } catch {
      // not started, or already gone
    }
    fs.rmSync(`/etc/pam.d/${this.service}`, { force: true });
  }
}
