// The units a bundle is made of, each compiled on its own so a login loads only what it needs:
//   - the base unit: the SDK, every shared module under lib/, the site entry, and the precedence
//     that installs `globalThis.__chos` with `register` (a group unit's entry point) and
//     `require` (the shared modules, by name);
//   - one unit per group file, which registers itself. Its imports of the SDK and of lib/ are
//     left to the base unit's `require`, so nothing shared is copied into it and every group
//     sees the same module instances the site entry sees. A group file imports lib/ by its
//     relative path ("../lib/a"); anything else it imports is bundled into its own unit.
// Both come from esbuild: one IIFE build for the base, one CommonJS build with every group file
// as an entry point, wrapped here (groupUnitSource) in a call of `__chos.register`, esbuild's
// runtime helpers defined once after the base and shared by the group units (runtime-helpers.ts).

import fs from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import type { PolicyDir } from "./policy-dir";
import { cutHelpers, helpersSource, type RuntimeHelpers } from "./runtime-helpers";
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
    if (Array.isArray(failure.errors))
      throw new Error(`bundling ${policy.dir} failed:\n${formatMessages(failure.errors)}`);
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

/** The base unit, built as if to `outFile`, followed by the runtime helpers the group units share. */
export async function buildBase(
  policy: PolicyDir,
  sdk: string,
  outFile: string,
  helpers: RuntimeHelpers,
): Promise<UnitOutput> {
  const files = await run(policy, {
    ...COMMON,
    stdin: {
      contents: baseEntry(sdk, sharedModules(policy)),
      resolveDir: policy.dir,
      sourcefile: "<chos entry>",
      loader: "ts",
    },
    // Messages and the bundle's comments name files relative to the policy directory.
    absWorkingDir: policy.dir,
    format: "iife",
    alias: { [SDK_SPECIFIER]: path.join(sdk, "index.ts") },
    outfile: outFile,
  });
  const js = files.find((f) => f.path === outFile);
  const map = files.find((f) => f.path === `${outFile}.map`);
  if (!js || !map) throw new Error(`esbuild wrote no bundle for ${policy.dir}`);
  return {
    code: js.text + helpersSource(helpers),
    map: absoluteMap(map.text, path.dirname(outFile)),
    mapLineOffset: 0,
  };
}

/** The wrapped script of one group unit: marker, register call, esbuild's CommonJS output;
 *  the shared runtime helpers as parameters when its own copy was cut. */
function groupUnitSource(group: string, file: string, cjs: string, shared: readonly string[] | undefined): string {
  const params = shared ? `module, exports, require, { ${shared.join(", ")} }` : "module, exports, require";
  return (
    `${UNIT_MARKER}${group}\n` +
    `__chos.register(${JSON.stringify(group)}, ${JSON.stringify(file)}, function (${params}) {\n` +
    `${cjs}${cjs.endsWith("\n") ? "" : "\n"}});\n`
  );
}

/** Group files per esbuild run: one run over thousands of entry points slows down more than
 *  linearly (esbuild 0.28: 5,000 in one run took 3x as long as in runs of 500). */
const GROUPS_PER_RUN = 500;

/** The map esbuild wrote, its sources made absolute (they are relative to the output dir). */
function absoluteMap(text: string, outDir: string): UnitOutput["map"] {
  const map = JSON.parse(text) as UnitOutput["map"];
  return { ...map, sources: map.sources.map((s) => path.resolve(outDir, s)) };
}

/** One unit per group file, in the order of policy.groups (sorted by group name). */
export async function buildGroups(policy: PolicyDir, helpers: RuntimeHelpers): Promise<GroupUnitOutput[]> {
  // Output paths are only names (nothing is written), but esbuild writes an external import
  // relative to the output directory: from policy.d, "../lib/a" stays as the file wrote it,
  // and the base unit's require resolves it the same way (policy/sdk/precedence.ts).
  const outDir = path.join(policy.dir, "policy.d");
  const runs: Promise<GroupUnitOutput[]>[] = [];
  for (let first = 0; first < policy.groups.length; first += GROUPS_PER_RUN) {
    const groups = policy.groups.slice(first, first + GROUPS_PER_RUN);
    runs.push(
      run(policy, {
        ...COMMON,
        entryPoints: groups.map((g, i) => ({ in: path.join(policy.dir, g.file), out: `unit${i}` })),
        absWorkingDir: policy.dir,
        format: "cjs",
        outdir: outDir,
        external: [SDK_SPECIFIER, "./lib/*"],
      }).then((files) => {
        const byPath = new Map(files.map((f) => [f.path, f]));
        return groups.map((g, i) => {
          const js = byPath.get(path.join(outDir, `unit${i}.js`));
          const map = byPath.get(path.join(outDir, `unit${i}.js.map`));
          if (!js || !map) throw new Error(`esbuild wrote no unit for ${g.file}`);
          const full = absoluteMap(map.text, outDir);
          const unit = cutHelpers(js.text, String(full.mappings), helpers);
          const code = groupUnitSource(g.group, g.file, unit.cjs, unit.cut ? helpers.names : undefined);
          return { group: g.group, file: g.file, code, map: { ...full, mappings: unit.mappings }, mapLineOffset: 2 };
        });
      }),
    );
  }
  return (await Promise.all(runs)).flat();
}
