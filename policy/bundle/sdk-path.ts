// Where the SDK sources are at run time: beside the sources (policy/bundle -> policy/sdk) when
// run from the repository, or dist/sdk when run as the bundled CLI (scripts/build-ts.mjs copies it).
import fs from "node:fs";
import path from "node:path";

/** The specifier admins import the SDK by; documented in policy/sdk/index.ts. */
export const SDK_SPECIFIER = "chos-policy/sdk";

/** Absolute path of the SDK directory (holding index.ts, contract.ts, helpers.ts, precedence.ts). */
export function sdkDir(): string {
  for (const candidate of [path.resolve(__dirname, "../sdk"), path.resolve(__dirname, "sdk")]) {
    if (fs.existsSync(path.join(candidate, "precedence.ts"))) return candidate;
  }
  throw new Error(`chos-policy: the SDK sources are missing (looked beside ${__dirname})`);
}
