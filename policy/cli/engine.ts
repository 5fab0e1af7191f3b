// The native engine as the CLI uses it: the addon (policy/native.ts, the very C code of the PAM
// module) and the mapping of the bundle positions it reports back to .ts lines.
import type { BundleMap } from "../bundle/sourcemap";
import { addon, type Decision as NativeDecision } from "../native";

export type { NativeDecision };

/** The addon, loaded on first use (so `chos-policy help` works without it). */
export function native(): ReturnType<typeof addon> {
  return addon();
}

/** The catalogue the PAM module reads when given none: the C core's default, from the addon. */
export function defaultCatalogue(): string {
  return native().constants().defaults.catalogue;
}

/** A position in a policy's sources: the .ts file and line (null when only the file is known). */
export interface TsPosition {
  readonly file: string;
  readonly line: number | null;
}

function isPolicyFile(file: string): boolean {
  return file === "index.ts" || file.startsWith("policy.d/");
}

/** Maps a bundle position to the .ts, preferring a policy file over the SDK's own lines. */
export function tsPosition(
  map: BundleMap | undefined,
  file: string | undefined,
  line: number | undefined,
  column: number | undefined,
): TsPosition | null {
  const mapped = map !== undefined && line ? map.position(line, column ?? 1) : undefined;
  if (mapped !== undefined && (isPolicyFile(mapped.file) || file === undefined || file === "")) {
    return { file: mapped.file, line: mapped.line };
  }
  return file ? { file, line: null } : null;
}

/** "policy.d/x.ts:7", or the file alone. */
export function showPosition(pos: TsPosition | null): string {
  if (pos === null) return "(unknown)";
  return pos.line === null ? pos.file : `${pos.file}:${pos.line}`;
}
