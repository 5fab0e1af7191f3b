// Builds the TypeScript tools into dist/: the chos-policy CLI (one node script, executable) with
// the SDK sources beside it (dist/sdk: the bundler compiles them into every policy bundle and
// `check` type-checks against them), and every bench/*.ts as dist/bench/*.js.
// typescript, esbuild and the WASM engine stay external (required at run time from
// node_modules); the addon is loaded by policy/native.ts from dist/native.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  external: ["typescript", "esbuild", "quickjs-emscripten-core", "@jitl/*", "*.node"],
  sourcemap: "linked",
  logLevel: "warning",
};

await esbuild.build({
  ...common,
  entryPoints: [path.join(root, "policy/cli/chos-policy.ts")],
  outfile: path.join(dist, "chos-policy.js"),
  banner: { js: "#!/usr/bin/env node" },
});
fs.chmodSync(path.join(dist, "chos-policy.js"), 0o755);

fs.rmSync(path.join(dist, "sdk"), { recursive: true, force: true });
fs.mkdirSync(path.join(dist, "sdk"), { recursive: true });
for (const name of fs.readdirSync(path.join(root, "policy/sdk"))) {
  if (name.endsWith(".ts") && !name.endsWith(".test.ts")) {
    fs.copyFileSync(path.join(root, "policy/sdk", name), path.join(dist, "sdk", name));
  }
}

const benchDir = path.join(root, "bench");
const benches = fs.existsSync(benchDir) ? fs.readdirSync(benchDir).filter((n) => n.endsWith(".ts")) : [];
if (benches.length > 0) {
  await esbuild.build({
    ...common,
    entryPoints: benches.map((n) => path.join(benchDir, n)),
    outdir: path.join(dist, "bench"),
    // Every module bundled here was written one directory below the repository root (bench/,
    // policy/) and finds its files from __dirname (policy/native.ts: ../dist/native). A bench
    // runs from dist/bench, two levels down, so it sees __dirname as dist, one level down,
    // like the CLI.
    banner: { js: '__dirname = require("node:path").dirname(__dirname);' },
  });
}
