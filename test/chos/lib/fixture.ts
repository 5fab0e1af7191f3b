// A chos site in a temp dir for the command's tests: the example policy (policy/examples/site)
// built with the real CLI, a catalogue listing trixie (the cached tree) and `tiny` (a copy of
// the busybox tree inside the temp dir, so tests may give it an /etc/chos.conf and so it is
// visible inside a session's view through the /run bind), a root laid out by `chos setup`, and
// a copy of the chos binary that also runs inside trixie.
//
// Every scenario runs in `unshare --mount --propagation private`: `chos setup`'s binds and the
// sessions' namespaces die with it, so nothing is ever unmounted by hand.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { prepareTrees } from "../../system/lib/trees";

/** The repository: the nearest directory up with package.json (this file is also bundled into
 * dist/bench/login.js, two levels nearer the top). */
export const REPO = ((): string => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return dir;
})();
export const CHOS = path.join(REPO, "dist/native/chos");

export interface Site {
  /** The temp dir (0755, under /run, so the test users can reach it and sessions see it; not
   * under /tmp, whose mode 1777 fails the trust rule for the catalogue, bundle and tiny tree). */
  readonly dir: string;
  /** The chos binary to run (a copy inside dir, visible in every tree). */
  readonly chos: string;
  readonly catalogue: string;
  readonly policy: string;
  readonly root: string;
  /** The tiny tree copy: write its etc/chos.conf here. */
  readonly tiny: string;
  readonly trixie: string;
}

export interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Single-quotes s for bash. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Builds the example policy once per test file (it is the slow part: about a second). */
export function buildPolicy(dir: string): string {
  const out = path.join(dir, "policy.js");
  execFileSync(
    "node",
    [path.join(REPO, "dist/chos-policy.js"), "build", path.join(REPO, "policy/examples/site"), "-o", out],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
  return out;
}

/** Makes a site in a fresh temp dir; the caller removes it with removeSite in `finally`. */
export function makeSite(policyDir: string): Site {
  const dir = fs.mkdtempSync("/run/chos-cmd-");
  fs.chmodSync(dir, 0o755);
  const trees = prepareTrees(path.join(dir, "trees"));
  const tiny = path.join(dir, "tiny");
  execFileSync("cp", ["-a", trees.tiny, tiny]);
  const chos = path.join(dir, "chos");
  fs.copyFileSync(CHOS, chos);
  fs.chmodSync(chos, 0o755);
  for (const f of ["policy.js", "policy.js.qbc"]) fs.copyFileSync(path.join(policyDir, f), path.join(dir, f));
  const catalogue = path.join(dir, "catalogue");
  fs.writeFileSync(catalogue, `%SHELLS\ntrixie:${trees.trixie}\ntiny:${tiny}\ndefault:${trees.trixie}\n`, {
    mode: 0o644,
  });
  // The root must lie outside the directories chos setup binds into it (home, tmp, run...).
  const rootDir = fs.mkdtempSync("/var/lib/chos-cmd-root-");
  fs.chmodSync(rootDir, 0o755); // users reach the root through it
  const root = path.join(rootDir, "root");
  return { dir, chos, catalogue, policy: path.join(dir, "policy.js"), root, tiny, trixie: trees.trixie };
}

export function removeSite(site: Site): void {
  // Nothing is mounted here in the host's namespace (every mount lived in a scenario's).
  execFileSync("rm", ["-rf", "--one-file-system", site.dir, path.dirname(site.root)]);
}

/** `chos SUB --catalogue ... --policy ... --root ... ARGS...` as a bash word list. */
export function chosCmd(site: Site, sub: string, ...args: string[]): string {
  return [site.chos, sub, "--catalogue", site.catalogue, "--policy", site.policy, "--root", site.root, ...args]
    .map(q)
    .join(" ");
}

/** Words running the rest as USER (uid, primary group and groups from NSS) with a small clean
 * environment: setpriv, as a PAM session's shell would be started. Works on the host and in
 * trixie (both have setpriv and env). */
export function userWords(user: string, env: Record<string, string> = {}): string[] {
  const gid = execFileSync("id", ["-g", user], { encoding: "utf8" }).trim();
  const vars = Object.entries({ PATH: "/usr/bin:/bin", HOME: `/home/${user}`, ...env }).map(([k, v]) => `${k}=${v}`);
  return ["setpriv", `--reuid=${user}`, `--regid=${gid}`, "--init-groups", "--", "env", "-i", ...vars];
}

/** CMD (a bash command line) run as USER; see userWords. */
export function asUser(user: string, cmd: string, env: Record<string, string> = {}): string {
  return `${userWords(user, env).map(q).join(" ")} ${cmd}`;
}

/** Runs SCRIPT (bash) in a private mount namespace after `chos setup` laid out the root
 * (setup skipped with laidOut false: for set-ups setup itself refuses). */
export function scenario(site: Site, script: string, input?: string, laidOut = true): Result {
  const setup = [
    site.chos,
    "setup",
    "--root",
    site.root,
    "--catalogue",
    site.catalogue,
    "--policy",
    site.policy,
    "--sysconfig",
    path.join(site.dir, "sysconfig"),
    "--backend",
    "namespace",
  ]
    .map(q)
    .join(" ");
  const r = spawnSync(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "--",
      "bash",
      "-c",
      `${laidOut ? `set -e\n${setup} >/dev/null\nset +e\n` : ""}${script}`,
    ],
    {
      encoding: "utf8",
      input: input ?? "",
      timeout: 60_000,
    },
  );
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
