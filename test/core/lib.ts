// Shared by the core tests: a temp dir per test, a catalogue, a login context, and one tiny
// bundle writer. The bundle it writes sets globalThis.__chos the way the SDK's precedence
// (policy/sdk/precedence.ts) does, in plain JS, so these tests exercise the C sandbox alone;
// the real bundler is tested with the SDK (test/policy/).
import * as fs from "node:fs";
import * as path from "node:path";
import { addon, type DecideOptions, type Decision, type LoginContextInput } from "../../policy/native";

export const native = addon();

/** Runs fn with a fresh temp dir, removed afterwards whatever happens. Under /var/lib, not
 * os.tmpdir(): the trust rule refuses files below a world-writable directory such as /tmp. */
export function withDir<T>(fn: (dir: string) => T): T {
  const dir = fs.mkdtempSync("/var/lib/chos-test-core-");
  try {
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** withDir for an async body: the dir goes only once the body has settled. */
export async function withDirAsync(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync("/var/lib/chos-test-core-");
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes a file with an explicit mode (the trust rule looks at it; umask must not). */
export function writeFile(file: string, text: string | Buffer, mode = 0o644): string {
  fs.writeFileSync(file, text);
  fs.chmodSync(file, mode);
  return file;
}

export const SEED_CATALOGUE = "# test catalogue\n%SHELLS\ndefault:/\nsl7:/os/sl7\nel9:/os/el9\n%ENV\nPATH=/x\n";

export function writeCatalogue(dir: string, text = SEED_CATALOGUE): string {
  return writeFile(path.join(dir, "chos"), text);
}

/** The body of each policy function: JS statements over `ctx`, ending in a return. */
export interface PolicySources {
  readonly site: string;
  readonly groups?: Record<string, string>;
  /** Top-level statements run before __chos is set (for load-time faults). */
  readonly prelude?: string;
}

/** The bundle text for these policy bodies, following the SDK's precedence. */
export function bundleSource(p: PolicySources): string {
  const groups = Object.entries(p.groups ?? {})
    .map(([g, body]) => `[${JSON.stringify(g)}, { file: "policy.d/${g}.ts", policy: (ctx) => {\n${body}\n} }]`)
    .join(",\n");
  return `(() => {
${p.prelude ?? ""}
const site = { file: "index.ts", policy: (ctx) => {
${p.site}
} };
const groups = new Map([${groups}]);
const chos = {
  current: undefined,
  decide(ctx) {
    chos.current = site.file;
    const s = site.policy(ctx);
    if (s !== null && s !== undefined) return { layer: "site", file: site.file, value: s };
    for (const g of ctx.user.groups) {
      const e = groups.get(g);
      if (e === undefined) continue;
      chos.current = e.file;
      const v = e.policy(ctx);
      if (v !== null && v !== undefined) return { layer: "group", group: g, file: e.file, value: v };
    }
    chos.current = undefined;
    const r = ctx.requested;
    if (r !== null && ctx.environments.includes(r.env)) return { layer: "request", value: { env: r.env, reason: "requested" } };
    if (ctx.environments.includes("default")) return { layer: "default", value: { env: "default", reason: "the catalogue's default" } };
    return { layer: "host", value: null };
  },
};
globalThis.__chos = chos;
})();
`;
}

export function writeBundle(dir: string, p: PolicySources | string, name = "policy.js"): string {
  return writeFile(path.join(dir, name), typeof p === "string" ? p : bundleSource(p));
}

export const ALICE: LoginContextInput = {
  user: { name: "alice", uid: 1000, gid: 1000, home: "/home/alice", shell: "/bin/bash", groups: ["alice", "physics"] },
  host: { name: "n12" },
  service: "sshd",
  remoteHost: "10.0.0.1",
  tty: null,
  requested: null,
};

/** decide() over a bundle and catalogue in dir, with the context and options given. */
export function decide(dir: string, p: PolicySources | string, extra: Partial<DecideOptions> = {}): Decision {
  const bundle = writeBundle(dir, p);
  const catalogue = fs.existsSync(path.join(dir, "chos")) ? path.join(dir, "chos") : writeCatalogue(dir);
  return native.decide({ bundle, catalogue, context: ALICE, ...extra });
}
