// Drives test/vm/run from jest: boots the VM, runs one in-VM script, collects its output.
// In-VM suites print "CHOS-CHECK <name> ok|fail <status>" per behaviour (lib/vm.sh
// chos_vm_check), so one boot serves many jest tests.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildPolicy } from "../../chos/lib/fixture";

export const repoRoot = path.resolve(__dirname, "..", "..", "..");
const runner = path.join(repoRoot, "test", "vm", "run");

/** The kernels every VM suite runs on (test/vm/kernel): Debian 12's 6.1, Debian 13's 6.12 and
 * its PREEMPT_RT build, and the newest of trixie-backports. CHOS_VM_KERNELS (comma-separated)
 * narrows the list for a local run. */
export const VM_KERNELS: readonly string[] = (
  process.env.CHOS_VM_KERNELS ?? "bookworm,trixie,trixie-rt,trixie-backports"
).split(",");

export interface VmResult {
  /** The script's exit status inside the VM (125: the VM never reported one). */
  readonly status: number;
  /** Everything the script printed (stdout and stderr interleaved), boot excluded. */
  readonly output: string;
  /** The verdict of each chos_vm_check, by name. */
  readonly checks: ReadonlyMap<string, "ok" | "fail">;
}

/**
 * Runs scriptPath (relative to the repository) in the VM; echoes its output when CHOS_VM_ECHO is
 * set. The VM is stopped after timeoutSeconds, which callers keep below their jest timeout so a
 * hung VM fails the test instead of outliving it. image "clean" boots the fresh Debian 12 of the
 * package test (CHOS_VM_IMAGE in test/vm/run).
 */
export function runVm(
  scriptPath: string,
  extraFiles: readonly string[] = [],
  timeoutSeconds = 500,
  kernel = "bookworm",
  image: "default" | "clean" = "default",
): Promise<VmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(runner, [scriptPath, ...extraFiles], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        CHOS_VM_TIMEOUT: String(timeoutSeconds),
        CHOS_VM_KERNEL: kernel,
        CHOS_VM_IMAGE: image,
      },
    });
    let output = "";
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      if (process.env.CHOS_VM_ECHO) process.stderr.write(chunk);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code) => {
      const checks = new Map<string, "ok" | "fail">();
      for (const match of output.matchAll(/^CHOS-CHECK (\S+) (ok|fail)\b/gm)) {
        checks.set(match[1], match[2] as "ok" | "fail");
      }
      resolve({ status: code ?? 125, output, checks });
    });
  });
}

/** The lines a check printed (between "--- name" and its CHOS-CHECK line), for failure messages. */
export function checkOutput(result: VmResult, name: string): string {
  const start = result.output.indexOf(`--- ${name}\n`);
  const end = result.output.indexOf(`CHOS-CHECK ${name} `, start);
  return start < 0 ? result.output.slice(-4000) : result.output.slice(start, end < 0 ? undefined : end);
}

/** Fails with the check's own output unless the in-VM check `name` reported ok. */
export function expectCheck(result: VmResult, name: string): void {
  const verdict = result.checks.get(name);
  if (verdict !== "ok") {
    throw new Error(`in-VM check ${name}: ${verdict ?? "never ran"}\n${checkOutput(result, name)}`);
  }
}

/** Runs scriptPath in the VM with the example policy (policy/examples/site) built by the real
 * CLI and copied in as /mnt/chos/chos-vm-policy, with extraFiles (run copies each under its base
 * name). */
export async function runVmWithExamplePolicy(
  scriptPath: string,
  kernel = "bookworm",
  extraFiles: readonly string[] = [],
): Promise<VmResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chos-vm-policy-"));
  try {
    const policy = path.join(dir, "chos-vm-policy");
    fs.mkdirSync(policy);
    buildPolicy(policy);
    return await runVm(scriptPath, [policy, ...extraFiles], 500, kernel);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One describe block per kernel of VM_KERNELS, titled "KERNEL: title": boot(kernel) runs once
 * in its beforeAll, and body declares the tests, reading that run through result().
 */
export function describeEachKernel(
  title: string,
  boot: (kernel: string) => Promise<VmResult>,
  body: (result: () => VmResult, kernel: string) => void,
): void {
  describe.each(VM_KERNELS)(`%s: ${title}`, (kernel) => {
    let run: VmResult | undefined;
    beforeAll(async () => {
      run = await boot(kernel);
    }, 600_000);
    body(() => {
      if (!run) throw new Error(`the VM run on ${kernel} did not happen`);
      return run;
    }, kernel);
  });
}
