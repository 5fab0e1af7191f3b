// The units a bundle is made of, each compiled on its own so a login loads only what it needs:
//   - the base unit: the SDK, every shared module under lib/, the site entry, and the precedence
//     that installs `globalThis.__chos` with `register` (a group unit's entry point) and
//     `require` (the shared modules, by name);
//   - one unit per group file, which registers itself. Its imports of the SDK and of lib/ are
//     left to the base unit's `require`, so nothing shared is copied into it and every group
//     sees the same module instances the site entry sees.
// Both come from esbuild: one IIFE build for the base, one CommonJS build with every group file
// as an entry point, wrapped here (groupUnitSource) in a call of `__chos.register`.
import * as esbuild from "esbuild";
import fs from "node:fs";
import path from "node:path";
import type { PolicyDir } from "./policy-dir";
import { SDK_SPECIFIER } from "./sdk-path";

/** The first line of every group unit; pam/core/policy/policy_units.c splits the bundle there. */
export const UNIT_MARKER = "// chos:unit ";

/** One compiled unit: its script and the source map esbuild wrote for it. */
export interface UnitOutput {
  readonly code: string;
  readonly map: { sources: string[]; [key: string]: unknown };
  /** Lines of `code` before what the map covers (a group unit's marker and register call). */
  readonly mapLineOffset: number;
}

/** A group unit, named by its group. */
export interface GroupUnitOutput extends UnitOutput {
  readonly group: string;
  readonly file: string;
}

/** Shared modules: every .ts file under lib/ (not .d.ts), as "lib/a.ts", sorted. */
export function sharedModules(policy: PolicyDir): string[] {
  const lib = path.join(policy.dir, "lib");
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(full);
    }
  };
  if (fs.existsSync(lib)) walk(lib);
  return found.map((f) => path.relative(policy.dir, f).split(path.sep).join("/")).sort();
}

function formatMessages(messages: readonly esbuild.Message[]): string {
  return messages
    .map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ${m.text}` : m.text))
    .join("\n");
}

/** esbuild.build, its errors as one Error naming each .ts line. */
async function run(policy: PolicyDir, options: esbuild.BuildOptions & { write: false }): Promise<esbuild.OutputFile[]> {
  try {
    return (await esbuild.build(options)).outputFiles;
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    if (Array.isArray(failure.errors)) throw new Error(`bundling ${policy.dir} failed:\n${formatMessages(failure.errors)}`);
    throw e;
  }
}

const COMMON = {
  bundle: true,
  platform: "neutral",
  target: "es2023",
  sourcemap: "external",
  sourcesContent: true,
  write: false,
  logLevel: "silent",
  charset: "utf8",
} as const;

/** The generated entry of the base unit. */
function baseEntry(sdk: string, modules: readonly string[]): string {
  return [
    `import { install } from ${JSON.stringify(path.join(sdk, "precedence.ts"))};`,
    `import * as sdk from ${JSON.stringify(SDK_SPECIFIER)};`,
    ...modules.map((m, i) => `import * as shared${i} from ${JSON.stringify(`./${m}`)};`),
    `import site from "./index.ts";`,
    `install({ file: "index.ts", policy: site }, {`,
    `  ${JSON.stringify(SDK_SPECIFIER)}: sdk,`,
    ...modules.map((m, i) => `  ${JSON.stringify(m)}: shared${i},`),
    `});`,
  ].join("\n");
}

/** The base unit, built as if to `outFile`. */
export async function buildBase(policy: PolicyDir, sdk: string, outFile: string): Promise<UnitOutput> {
  const files = await run(policy, {
    ...COMMON,
    stdin: { contents: baseEntry(sdk, sharedModules(policy)), resolveDir: policy.dir, sourcefile: "<chos entry>", loader: "ts" },
    // Messages and the bundle's comments name files relative to the policy directory.
    absWorkingDir: policy.dir,
    format: "iife",
    alias: { [SDK_SPECIFIER]: path.join(sdk, "index.ts") },
    outfile: outFile,
  });
  const js = files.find((f) => f.path === outFile);
  const map = files.find((f) => f.path === `${outFile}.map`);
  if (!js || !map) throw new Error(`esbuild wrote no bundle for ${policy.dir}`);
  return { code: js.text, map: JSON.parse(map.text), mapLineOffset: 0 };
}

/** Leaves the SDK and lib/ modules to the base unit's `require`, under the names it serves. */
function sharedExternals(policy: PolicyDir): esbuild.Plugin {
  const lib = path.join(policy.dir, "lib") + path.sep;
  return {
    name: "chos-shared",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.path === SDK_SPECIFIER) return { path: SDK_SPECIFIER, external: true };
        if (!args.path.startsWith(".")) return undefined;
        const target = path.resolve(args.resolveDir, args.path);
        for (const candidate of [target, `${target}.ts`, path.join(target, "index.ts")]) {
          if (candidate.startsWith(lib) && fs.statSync(candidate, { throwIfNoEntry: false })?.isFile()) {
            return { path: path.relative(policy.dir, candidate).split(path.sep).join("/"), external: true };
          }
        }
        return undefined;
      });
    },
  };
}

/** The wrapped script of one group unit: marker, register call, esbuild's CommonJS output. */
function groupUnitSource(group: string, file: string, cjs: string): string {
  return (
    `${UNIT_MARKER}${group}\n` +
    `__chos.register(${JSON.stringify(group)}, ${JSON.stringify(file)}, function (module, exports, require) {\n` +
    `${cjs}${cjs.endsWith("\n") ? "" : "\n"}});\n`
  );
}

/** One unit per group file, in the order of policy.groups (sorted by group name). */
export async function buildGroups(policy: PolicyDir, outDir: string): Promise<GroupUnitOutput[]> {
  if (policy.groups.length === 0) return [];
  const entryPoints = policy.groups.map((g, i) => ({ in: path.join(policy.dir, g.file), out: `unit${i}` }));
  const files = await run(policy, {
    ...COMMON,
    entryPoints,
    absWorkingDir: policy.dir,
    format: "cjs",
    outdir: outDir,
    plugins: [sharedExternals(policy)],
  });
  const byPath = new Map(files.map((f) => [f.path, f]));
  return policy.groups.map((g, i) => {
    const js = byPath.get(path.join(outDir, `unit${i}.js`));
    const map = byPath.get(path.join(outDir, `unit${i}.js.map`));
    if (!js || !map) throw new Error(`esbuild wrote no unit for ${g.file}`);
    return { group: g.group, file: g.file, code: groupUnitSource(g.group, g.file, js.text), map: JSON.parse(map.text), mapLineOffset: 2 };
  });
}
