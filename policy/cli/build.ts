// `chos-policy build DIR [-o OUT]`: bundle a policy directory and compile it to QuickJS
// bytecode (OUT.qbc, which the PAM module prefers while it is fresh), reporting sizes.
import fs from "node:fs";
import path from "node:path";
import { type BundleOutput, bundlePolicy } from "../bundle/bundle";
import { parseArgs, positionals } from "./args";
import { native } from "./engine";
import type { Output } from "./io";

export const BUILD_USAGE = [
  "build DIR [-o OUT]",
  "bundle DIR (index.ts, policy.d/*.ts) to OUT (default ./policy.js), OUT.map and OUT.qbc",
];

/** Sizes in bytes of what a build wrote, and of the units in the bundle. */
export interface BuildSizes {
  readonly bundle: number;
  readonly map: number;
  readonly bytecode: number;
  /** The base unit (SDK, lib/, index.ts), then one per group file. */
  readonly units: BundleOutput["units"];
}

/** Writes OUT, OUT.map and OUT.qbc; returns their sizes. */
export async function buildPolicy(dir: string, out: string): Promise<BuildSizes> {
  const built = await bundlePolicy(dir, out);
  const { bytes } = native().compile(built.bundle);
  return {
    bundle: fs.statSync(built.bundle).size,
    map: fs.statSync(built.map).size,
    bytecode: bytes,
    units: built.units,
  };
}

/** What a login loads besides its own groups' units (the base), and what one group adds. */
function unitRows(units: BuildSizes["units"]): [string, string, number][] {
  const [base, ...groups] = units;
  const rows: [string, string, number][] = [["base", "unit: the SDK, lib/ and index.ts", base.bytes]];
  if (groups.length === 0) return rows;
  const largest = groups.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const total = groups.reduce((n, g) => n + g.bytes, 0);
  rows.push(
    ["groups", `${groups.length} units, one per group file`, total],
    ["largest", `unit: ${largest.file}`, largest.bytes],
  );
  return rows;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

export async function build(argv: readonly string[], io: Output): Promise<number> {
  const args = parseArgs("build", argv, { strings: ["output"], aliases: { o: "output" } });
  const [dir] = positionals("build", args, ["DIR"]);
  const out = path.resolve(args.strings.get("output") ?? "policy.js");
  const sizes = await buildPolicy(dir, out);
  const rows: [string, string, number][] = [
    ["bundle", out, sizes.bundle],
    ["map", `${out}.map`, sizes.map],
    ["bytecode", `${out}.qbc`, sizes.bytecode],
    ...unitRows(sizes.units),
  ];
  const width = Math.max(...rows.map((r) => r[1].length));
  for (const [label, file, size] of rows) io.out(`${label.padEnd(9)}${file.padEnd(width + 2)}${kb(size).padStart(9)}`);
  return 0;
}
