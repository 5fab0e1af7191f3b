// Shared helpers of the policy tests: a temp policy directory per test (removed in `finally` by
// the caller through withTemp), contexts, and the example policy's paths.
import fs from "node:fs";
import path from "node:path";
import type { ContextInput } from "../../../policy/cli/context";
import type { LoginContext } from "../../../policy/sdk";

export const EXAMPLE = path.resolve(__dirname, "../../../policy/examples/site");

let catalogueCopy: string | undefined;
/** The example's catalogue (EXAMPLE/chos.conf) copied into a trusted directory once per test
 * process: a checkout may sit below a world-writable one (a clone under /tmp), and a catalogue
 * is judged with every directory above it, as a login would. Removed when the process exits. */
export function exampleCatalogue(): string {
  if (!catalogueCopy) {
    const dir = fs.mkdtempSync("/var/lib/chos-test-catalogue-");
    catalogueCopy = path.join(dir, "chos.conf");
    fs.copyFileSync(path.join(EXAMPLE, "chos.conf"), catalogueCopy);
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return catalogueCopy;
}

/** Runs fn with a fresh temp directory, removed afterwards whatever happens. Under /var/lib,
 * not os.tmpdir(): the trust rule refuses bundles below a world-writable directory. */
export async function withTemp<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = fs.mkdtempSync("/var/lib/chos-test-policy-");
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes a policy directory: keys are paths ("index.ts", "policy.d/physics.ts"). */
export function writePolicy(dir: string, files: Record<string, string>): string {
  const policy = path.join(dir, "policy");
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(policy, name)), { recursive: true });
    fs.writeFileSync(path.join(policy, name), text);
  }
  return policy;
}

/** A catalogue file listing `names` (each at /srv/NAME). */
export function writeCatalogue(dir: string, names: readonly string[]): string {
  const file = path.join(dir, "chos.conf");
  fs.writeFileSync(file, `%SHELLS\n${names.map((n) => `${n}:/srv/${n}`).join("\n")}\n`);
  return file;
}

/** A site entry with no opinion. */
export const NO_OPINION = `export default () => null;\n`;

/** The context of a login, without environments (what the addon takes). */
export function context(
  over: Partial<ContextInput> & { groups?: string[]; requested?: ContextInput["requested"] } = {},
): ContextInput {
  const { groups, ...rest } = over;
  return {
    user: { name: "alice", uid: 2001, gid: 2001, home: "/home/alice", shell: "/bin/sh", groups: groups ?? ["physics"] },
    host: { name: "n01" },
    service: "sshd",
    remoteHost: null,
    tty: null,
    requested: null,
    ...rest,
  };
}

/** The same with environments, for the WASM harness. */
export function fullContext(input: ContextInput, environments: readonly string[]): LoginContext {
  return { ...input, environments };
}
