// `chos-policy build DIR [-o OUT]`: bundle a policy directory and compile it to QuickJS
// bytecode (OUT.qbc, which the PAM module prefers while it is fresh), reporting sizes.
import fs from "node:fs";
import path from "node:path";
import { bundlePolicy } from "../bundle/bundle";
import { parseArgs, positionals } from "./args";
import { native } from "./engine";
import type { Output } from "./io";

export const BUILD_USAGE = [
  "build DIR [-o OUT]",
  "bundle DIR (index.ts, policy.d/*.ts) to OUT (default ./policy.js), OUT.map and OUT.qbc",
];

/** Writes OUT, OUT.map and OUT.qbc; returns their sizes in bytes. */
export async function buildPolicy(
  dir: string,
  out: string,
): Promise<{ bundle: number; map: number; bytecode: number }> {
  const built = await bundlePolicy(dir, out);
  const { bytes } = native().compile(built.bundle);
  return { bundle: fs.statSync(built.bundle).size, map: fs.statSync(built.map).size, bytecode: bytes };
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
  ];
  const width = Math.max(...rows.map((r) => r[1].length));
  for (const [label, file, size] of rows) io.out(`${label.padEnd(9)}${file.padEnd(width + 2)}${kb(size).padStart(9)}`);
  return 0;
}
