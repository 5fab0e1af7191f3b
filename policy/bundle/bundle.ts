// Bundles a policy directory into one script QuickJS runs: the base unit (the SDK, lib/, the site
// entry and the precedence, which installs `globalThis.__chos`: pam/core/policy/policy.h) followed
// by one unit per group file, each starting on a line of its own (units.ts). Run whole, it is the
// policy with every group registered; a login runs the base and its own groups' units only. The
// source map beside it is an index map with one section per unit, naming sources relative to the
// policy directory ("index.ts", "policy.d/physics.ts"), so it stays right wherever the bundle is
// installed.
import fs from "node:fs";
import path from "node:path";
import { type PolicyDir, readPolicyDir } from "./policy-dir";
import { probeRuntimeHelpers } from "./runtime-helpers";
import { SDK_SPECIFIER, sdkDir } from "./sdk-path";
import { buildBase, buildGroups, UNIT_MARKER, type UnitOutput } from "./units";

/** What a bundle build wrote. */
export interface BundleOutput {
  /** The script (.js). */
  readonly bundle: string;
  /** Its source map (bundle + ".map"). */
  readonly map: string;
  /** The policy directory's layout. */
  readonly policy: PolicyDir;
  /** Each unit's size in the bundle, in bundle order: the base (file "index.ts"), then one per
   *  group file. */
  readonly units: readonly { readonly file: string; readonly bytes: number }[];
}

/** A source path as the CLI shows it: relative to the policy dir, or under the SDK specifier. */
function displayName(absolute: string, policyDir: string, sdk: string): string {
  if (absolute.startsWith(sdk + path.sep)) return `${SDK_SPECIFIER}/${path.relative(sdk, absolute)}`;
  return path.relative(policyDir, absolute).split(path.sep).join("/");
}

/** Lines of a unit's code, which ends with a newline (so the next unit starts a line). */
function lineCount(code: string): number {
  if (!code.endsWith("\n")) throw new Error("a unit must end with a newline");
  let n = 0;
  for (let i = code.indexOf("\n"); i >= 0; i = code.indexOf("\n", i + 1)) n++;
  return n;
}

/** Bundles `dir` into `out` (and `out`.map). Throws with esbuild's errors, each at its .ts line. */
export async function bundlePolicy(dir: string, out: string): Promise<BundleOutput> {
  const policy = readPolicyDir(dir);
  const sdk = sdkDir();
  const outFile = path.resolve(out);
  const helpers = await probeRuntimeHelpers();
  const units: UnitOutput[] = [await buildBase(policy, sdk, outFile, helpers), ...(await buildGroups(policy, helpers))];
  const sections: { offset: { line: number; column: number }; map: UnitOutput["map"] }[] = [];
  let line = 0;
  for (const unit of units) {
    const map = { ...unit.map, sources: unit.map.sources.map((s) => displayName(s, policy.dir, sdk)) };
    sections.push({ offset: { line: line + unit.mapLineOffset, column: 0 }, map });
    line += lineCount(unit.code);
  }
  // A marker line anywhere but a unit's start (inside a template literal of the policy's own)
  // would split the bundle there: refuse it here, by file, rather than as a compile error.
  for (const [i, unit] of units.entries()) {
    if (unit.code.indexOf(`\n${UNIT_MARKER}`) >= 0) {
      const file = i === 0 ? "index.ts or lib/" : policy.groups[i - 1].file;
      throw new Error(`${file}: a line may not start with "${UNIT_MARKER}" (it marks where a unit starts)`);
    }
  }
  const js = units.map((u) => u.code).join("");
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  // 0644 whatever the umask: the PAM module refuses a group- or world-writable bundle.
  for (const [file, data] of [
    [outFile, js],
    [`${outFile}.map`, JSON.stringify({ version: 3, sections })],
  ] as const) {
    fs.writeFileSync(file, data);
    fs.chmodSync(file, 0o644);
  }
  const sizes = units.map((u, i) => ({
    file: i === 0 ? "index.ts" : policy.groups[i - 1].file,
    bytes: Buffer.byteLength(u.code),
  }));
  return { bundle: outFile, map: `${outFile}.map`, policy, units: sizes };
}
