// esbuild's CommonJS output starts with the runtime helpers it needs (__defProp, __export,
// __toCommonJS, __toESM...), about 900 bytes and a dozen closures. In one unit per group file
// that would be the same text thousands of times, compiled, loaded and run again by every login
// for each of its groups. So the base unit defines them once (`__chos.helpers`), each group
// unit's copy is cut, and its wrapper takes them as parameters.
//
// What esbuild emits is learned from esbuild itself (a probe build using every helper a group
// file's imports and default export need), never written out here, so the text always matches
// the pinned esbuild. A unit whose preamble is anything but those definitions, verbatim (a
// helper the probe did not produce), keeps its own copy: still correct, just not shared.
import * as esbuild from "esbuild";

/** The helpers a probe of esbuild emitted: each name and its definition's text, in order. */
export interface RuntimeHelpers {
  readonly names: readonly string[];
  readonly definitions: ReadonlyMap<string, string>;
  /** All of them, as esbuild wrote them. */
  readonly text: string;
}

/** Splits a preamble into its `var __name = ...` definitions; undefined if it is not just those. */
function definitions(preamble: string): Map<string, string> | undefined {
  const found = new Map<string, string>();
  const starts = [...preamble.matchAll(/^var (__[A-Za-z]+) = /gm)];
  if (starts.length === 0 || starts[0].index !== 0) return undefined;
  starts.forEach((m, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].index : preamble.length;
    found.set(m[1], preamble.slice(m.index, end));
  });
  return found;
}

/** Where esbuild's helpers end: at the blank line before the first module's comment. */
function preambleEnd(cjs: string): number {
  const blank = cjs.indexOf("\n\n// ");
  return blank < 0 ? -1 : blank + 1;
}

/** The helpers this esbuild emits for a group file: default and named imports from an external
 *  module, a namespace import, a default export. */
export async function probeRuntimeHelpers(): Promise<RuntimeHelpers> {
  const result = await esbuild.build({
    stdin: {
      contents: `import d, { n } from "x";\nimport * as ns from "y";\nexport default () => [d, n, ns];\n`,
      loader: "ts",
    },
    bundle: true,
    format: "cjs",
    platform: "neutral",
    target: "es2023",
    external: ["x", "y"],
    write: false,
    logLevel: "silent",
  });
  const cjs = result.outputFiles[0].text;
  const end = preambleEnd(cjs);
  const found = end < 0 ? undefined : definitions(cjs.slice(0, end));
  if (!found) throw new Error("esbuild's CommonJS output has no runtime helpers where expected");
  return { names: [...found.keys()], definitions: found, text: cjs.slice(0, end) };
}

/** The base unit's definition of the helpers, appended after its IIFE. */
export function helpersSource(helpers: RuntimeHelpers): string {
  return `__chos.helpers = (() => {\n${helpers.text}return { ${helpers.names.join(", ")} };\n})();\n`;
}

/** A group unit's CommonJS output without its helpers, with its source map's mappings for the
 *  lines that remain; or both as they were (cut false) when its preamble is not exactly probed
 *  helpers. */
export function cutHelpers(
  cjs: string,
  mappings: string,
  helpers: RuntimeHelpers,
): { cjs: string; mappings: string; cut: boolean } {
  const end = preambleEnd(cjs);
  const found = end < 0 ? undefined : definitions(cjs.slice(0, end));
  const unchanged = { cjs, mappings, cut: false };
  if (!found || [...found].some(([name, text]) => helpers.definitions.get(name) !== text)) return unchanged;
  // The blank line goes too. Those lines map nothing (helpers have no source): one ";" each.
  const lines = cjs.slice(0, end + 1).split("\n").length - 1;
  if (!mappings.startsWith(";".repeat(lines))) return unchanged;
  return { cjs: cjs.slice(end + 1), mappings: mappings.slice(lines), cut: true };
}
