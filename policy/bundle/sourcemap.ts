// Maps a position in a bundle (as QuickJS reports it: 1-based line and column) back to the
// policy's .ts file and line, through the source map bundlePolicy wrote beside the bundle.
import fs from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";

/** A position in a policy source file. */
export interface SourcePosition {
  /** Path relative to the policy directory ("policy.d/physics.ts") or under chos-policy/sdk. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/** A loaded source map; `position` returns undefined for a position it does not cover. */
export class BundleMap {
  private readonly map: SourceMap;

  constructor(payload: SourceMapPayload) {
    this.map = new SourceMap(payload);
  }

  /** Reads BUNDLE.map; undefined when the bundle has no map beside it. */
  static load(bundlePath: string): BundleMap | undefined {
    const mapPath = `${bundlePath}.map`;
    if (!fs.existsSync(mapPath)) return undefined;
    return new BundleMap(JSON.parse(fs.readFileSync(mapPath, "utf8")) as SourceMapPayload);
  }

  position(line: number, column: number): SourcePosition | undefined {
    if (!(line >= 1)) return undefined;
    const entry = this.map.findEntry(line - 1, Math.max(column - 1, 0));
    if (!("originalSource" in entry)) return undefined;
    return { file: entry.originalSource, line: entry.originalLine + 1, column: entry.originalColumn + 1 };
  }
}
