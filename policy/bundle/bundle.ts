// Bundles a policy directory into one script QuickJS runs: an esbuild IIFE whose generated entry
// imports the site entry, every group file and the SDK's precedence, and installs
// `globalThis.__chos` (pam/core/policy/policy.h). The source map beside it names sources relative to
// the policy directory ("index.ts", "policy.d/physics.ts"), so it stays right wherever the
// bundle is installed.

import fs from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { type PolicyDir, readPolicyDir } from "./policy-dir";
import { SDK_SPECIFIER, sdkDir } from "./sdk-path";

/** What a bundle build wrote. */
export interface BundleOutput {
  /** The script (.js). */
  readonly bundle: string;
  /** Its source map (bundle + ".map"). */
  readonly map: string;
  /** The policy directory's layout. */
  readonly policy: PolicyDir;
}

/** The source of the generated entry. */
function entrySource(policy: PolicyDir, sdk: string): string {
  const lines = [
    `import { install } from ${JSON.stringify(path.join(sdk, "precedence.ts"))};`,
    `import site from "./index.ts";`,
    ...policy.groups.map((g, i) => `import group${i} from ${JSON.stringify(`./${g.file}`)};`),
    `install({ file: "index.ts", policy: site }, new Map([`,
    ...policy.groups.map(
      (g, i) => `  [${JSON.stringify(g.group)}, { file: ${JSON.stringify(g.file)}, policy: group${i} }],`,
    ),
    `]));`,
  ];
  return `${lines.join("\n")}\n`;
}

/** A source path as the CLI shows it: relative to the policy dir, or under the SDK specifier. */
function displayName(absolute: string, policyDir: string, sdk: string): string {
  if (absolute.startsWith(sdk + path.sep)) return `${SDK_SPECIFIER}/${path.relative(sdk, absolute)}`;
  return path.relative(policyDir, absolute).split(path.sep).join("/");
}

function formatMessages(messages: readonly esbuild.Message[]): string {
  return messages
    .map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ${m.text}` : m.text))
    .join("\n");
}

/** Bundles `dir` into `out` (and `out`.map). Throws with esbuild's errors, each at its .ts line. */
export async function bundlePolicy(dir: string, out: string): Promise<BundleOutput> {
  const policy = readPolicyDir(dir);
  const sdk = sdkDir();
  const outFile = path.resolve(out);
  let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] };
  try {
    result = await esbuild.build({
      stdin: { contents: entrySource(policy, sdk), resolveDir: policy.dir, sourcefile: "<chos entry>", loader: "ts" },
      // Messages and the bundle's comments name files relative to the policy directory.
      absWorkingDir: policy.dir,
      bundle: true,
      format: "iife",
      platform: "neutral",
      target: "es2023",
      alias: { [SDK_SPECIFIER]: path.join(sdk, "index.ts") },
      sourcemap: "external",
      sourcesContent: true,
      outfile: outFile,
      write: false,
      logLevel: "silent",
      charset: "utf8",
    });
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    if (Array.isArray(failure.errors))
      throw new Error(`bundling ${policy.dir} failed:\n${formatMessages(failure.errors)}`);
    throw e;
  }
  const js = result.outputFiles.find((f) => f.path === outFile);
  const map = result.outputFiles.find((f) => f.path === `${outFile}.map`);
  if (!js || !map) throw new Error(`esbuild wrote no bundle for ${policy.dir}`);
  const payload = JSON.parse(map.text) as { sources: string[] };
  payload.sources = payload.sources.map((s) => displayName(path.resolve(path.dirname(outFile), s), policy.dir, sdk));
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  // 0644 whatever the umask: the PAM module refuses a group- or world-writable bundle.
  for (const [file, data] of [
    [outFile, js.contents],
    [`${outFile}.map`, JSON.stringify(payload)],
  ] as const) {
    fs.writeFileSync(file, data);
    fs.chmodSync(file, 0o644);
  }
  return { bundle: outFile, map: `${outFile}.map`, policy };
}
