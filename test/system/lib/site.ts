// A complete chos site for one test suite, in a temp dir, inside its own TestNamespace:
// catalogue (the seed's format), policy bundle, /etc/sysconfig/chos-style bind list, and ROOT
// laid out by the real `chos setup`. Config files are root-owned 0644, as the trust rule wants.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type RunResult, TestNamespace } from "./namespace";
import { REPO } from "./repo";
import { prepareTrees, type Trees } from "./trees";

export { REPO };
export const NATIVE = path.join(REPO, "dist/native");
export const PAM_CHOS = path.join(NATIVE, "pam_chos.so");
export const CHOS = path.join(NATIVE, "chos");

/** `chos image build TREE -o OUT`: an OS image of tree (its kind by out's suffix). */
export function buildImage(tree: string, out: string): void {
  const r = spawnSync(CHOS, ["image", "build", tree, "-o", out], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`chos image build ${tree}: ${r.stderr}`);
}
const POLICY_CLI = path.join(REPO, "dist/chos-policy.js");
/** A suite's beforeAll may build the trees on a fresh machine (debootstrap: a minute or more). */
export const TREES_TIMEOUT_MS = 600_000;
const EXAMPLE_POLICY = path.join(REPO, "policy/examples/site");

/** The example catalogue: the env names the example policy (policy/examples/site) uses. */
export function exampleCatalogue(trees: Trees): string {
  return `%SHELLS\ntrixie:${trees.trixie}\ntiny:${trees.tiny}\ndefault:${trees.trixie}\n`;
}

/** A hand-written bundle in the shape `chos-policy build` emits (pam/core/policy/policy.h): for the
 * fault tests, which need policies no SDK helper would write. */
export function rawBundle(decideBody: string): string {
  return `globalThis.__chos = { current: "index.ts", decide(ctx) { ${decideBody} } };\n`;
}

export function writeConfig(file: string, text: string, mode = 0o644): void {
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  fs.chownSync(file, 0, 0);
}

/** Builds the example site policy with the chos-policy CLI (dist/chos-policy.js) into out (+ .qbc). */
export function buildExamplePolicy(out: string): void {
  execFileSync(process.execPath, [POLICY_CLI, "build", EXAMPLE_POLICY, "-o", out], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (const f of [out, `${out}.qbc`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o644);
}

export interface SiteOptions {
  /** Catalogue text; default: exampleCatalogue. */
  readonly catalogue?: string;
  /** Bundle text; default: the example site policy built by chos-policy. */
  readonly policy?: string;
  /** /etc/sysconfig/chos text; default: none. */
  readonly sysconfig?: string;
}

export class TestSite {
  private constructor(
    readonly dir: string,
    readonly ns: TestNamespace,
    readonly trees: Trees,
  ) {}

  get root(): string {
    return path.join(this.dir, "root");
  }
  get catalogue(): string {
    return path.join(this.dir, "chos");
  }
  /** In a directory of its own: `chos setup` serves that directory at every tree's /etc/chos.d. */
  get policy(): string {
    return path.join(this.dir, "chos.d", "policy.js");
  }
  /** Where spank_chos pins job views for pam_chos (pam/core/apply/jobview.h). */
  get jobViews(): string {
    return path.join(this.dir, "jobs");
  }
  get sysconfig(): string {
    return path.join(this.dir, "sysconfig-chos");
  }

  /** Makes the site and runs `chos setup` in its namespace (throws when setup fails). */
  static async create(opts: SiteOptions = {}): Promise<TestSite> {
    // Under /var/lib: not /tmp, which ROOT binds and so must not contain ROOT, and neither /tmp
    // nor /var/tmp, whose mode 1777 fails the trust rule for the configuration and trees here.
    const dir = fs.mkdtempSync("/var/lib/chos-test-");
    fs.chmodSync(dir, 0o755);
    const trees = prepareTrees(path.join(dir, "trees"));
    const ns = await TestNamespace.start(path.join(dir, "ns"));
    const site = new TestSite(dir, ns, trees);
    try {
      writeConfig(site.catalogue, opts.catalogue ?? exampleCatalogue(trees));
      fs.mkdirSync(path.dirname(site.policy), { mode: 0o755 });
      if (opts.policy !== undefined) writeConfig(site.policy, opts.policy);
      else buildExamplePolicy(site.policy);
      if (opts.sysconfig !== undefined) writeConfig(site.sysconfig, opts.sysconfig);
      const r = site.setup();
      if (r.status !== 0) throw new Error(`chos setup failed (${r.status}):\n${r.stdout}${r.stderr}`);
    } catch (e) {
      site.close();
      throw e;
    }
    return site;
  }

  /** `chos setup` with this site's paths, inside the namespace. */
  setup(...extra: string[]): RunResult {
    return this.ns.run([
      CHOS,
      "setup",
      "--root",
      this.root,
      "--catalogue",
      this.catalogue,
      "--sysconfig",
      this.sysconfig,
      "--policy",
      this.policy,
      ...extra,
    ]);
  }

  /** The module arguments that point pam_chos (and spank_chos) at this site; job views stay in
   *  the site's directory, not the host's /run/chos/jobs. */
  moduleArgs(): string[] {
    return [`catalogue=${this.catalogue}`, `policy=${this.policy}`, `root=${this.root}`, `job_views=${this.jobViews}`];
  }

  close(): void {
    this.ns.stop();
    // The namespace held every mount under dir; once it is gone this is plain files.
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmSync(this.dir, { recursive: true, force: true });
        return;
      } catch {
        execFileSync("sleep", ["0.1"]);
      }
    }
  }
}
