// The layout of a policy directory: `index.ts` (the site entry) and `policy.d/<group>.ts`.
import fs from "node:fs";
import path from "node:path";

/** A group file: the group it applies to and its path relative to the policy directory. */
export interface GroupFile {
  readonly group: string;
  readonly file: string;
}

/** The files of one policy directory. */
export interface PolicyDir {
  /** Absolute path of the directory. */
  readonly dir: string;
  /** Group files, sorted by group name. */
  readonly groups: readonly GroupFile[];
}

// The catalogue's name rule (pam/core/facts/catalogue.h), which POSIX group names also satisfy.
const GROUP_NAME = /^[A-Za-z0-9._-]+$/;
// CHOS_NAME_MAX there: the longest group a login looks up, and a unit marker may name.
const GROUP_NAME_MAX = 64;

/** Reads a policy directory's layout; throws an error that says what to fix. */
export function readPolicyDir(dir: string): PolicyDir {
  const abs = path.resolve(dir);
  if (!fs.existsSync(path.join(abs, "index.ts"))) {
    throw new Error(`${abs}: not a policy directory (no index.ts; it must export default (ctx) => Decision)`);
  }
  const groupDir = path.join(abs, "policy.d");
  const names = fs.existsSync(groupDir) ? fs.readdirSync(groupDir).filter((n) => n.endsWith(".ts")) : [];
  const groups = names
    .filter((n) => !n.endsWith(".d.ts"))
    .sort()
    .map((name) => {
      const group = name.slice(0, -3);
      if (!GROUP_NAME.test(group) || group === "." || group === "..") {
        throw new Error(`policy.d/${name}: "${group}" is not a group name (use [A-Za-z0-9._-])`);
      }
      if (group.length > GROUP_NAME_MAX) {
        throw new Error(
          `policy.d/${name}: "${group}" is longer than ${GROUP_NAME_MAX} characters, the longest name chos reads`,
        );
      }
      return { group, file: `policy.d/${name}` };
    });
  return { dir: abs, groups };
}
