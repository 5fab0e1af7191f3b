// Helpers admins import from "chos-policy/sdk". Decisions made by use() and deny() remember
// where they were made (a non-enumerable `__at`, "LINE:COLUMN" in the bundle) so that
// `chos-policy explain` and the syslog line can name the .ts line that decided.
import { type DenyDecision, type LoginContext, requestSourceName, type UseDecision } from "./contract";

/** Position of the caller `depth` frames above this function, as "LINE:COLUMN", if known. */
function callSite(depth: number): string | undefined {
  // QuickJS (C and WASM) and V8 both print frames as "    at NAME (FILE:LINE:COLUMN)";
  // frame 0 is callSite itself, so the helper that called it is 1 and its caller 2.
  const frames = (new Error().stack ?? "").split("\n").filter((line) => /^\s*at /.test(line));
  const match = /:(\d+):(\d+)\)?\s*$/.exec(frames[depth] ?? "");
  return match ? `${match[1]}:${match[2]}` : undefined;
}

function stamped<T extends object>(decision: T, at: string | undefined): T {
  if (at !== undefined) Object.defineProperty(decision, "__at", { value: at, enumerable: false });
  return Object.freeze(decision);
}

/** Decision: send the user into `env` (must be listed in the catalogue), saying why. */
export function use(env: string, reason?: string): UseDecision {
  const decision: UseDecision = reason === undefined ? { env } : { env, reason };
  return stamped(decision, callSite(2));
}

/** Decision: refuse the login, saying why. */
export function deny(reason: string): DenyDecision {
  return stamped({ deny: reason }, callSite(2));
}

/** True when the user is a member of any of `groups` (primary or supplementary). */
export function inGroup(ctx: LoginContext, ...groups: readonly string[]): boolean {
  return groups.some((group) => ctx.user.groups.includes(group));
}

/** Converts a shell-style host pattern (`*`, `?`, `[0-9]`) to an anchored RegExp. */
export function hostPattern(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) throw new Error(`host pattern "${pattern}": "[" without a closing "]"`);
      const body = pattern.slice(i + 1, end).replace(/\\/g, "\\\\");
      source += body.startsWith("!") ? `[^${body.slice(1)}]` : `[${body}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** True when the short host name matches any shell-style pattern (`gpu*`, `n[0-9][0-9]`) or RegExp. */
export function hostMatches(ctx: LoginContext, ...patterns: readonly (string | RegExp)[]): boolean {
  return patterns.some((p) => (typeof p === "string" ? hostPattern(p) : p).test(ctx.host.name));
}

/** True for a Slurm job step whose partition is one of `partitions` (as the job reports it). */
export function inPartition(ctx: LoginContext, ...partitions: readonly string[]): boolean {
  const partition = ctx.job?.partition;
  return partition !== undefined && partition !== null && partitions.includes(partition);
}

/** True when `env` is listed in the catalogue. */
export function listed(ctx: LoginContext, env: string): boolean {
  return ctx.environments.includes(env);
}

/** The environment the user requested, when it is listed (and among `allowed`, if given); else null. */
export function requestedEnv(ctx: LoginContext, allowed?: readonly string[]): string | null {
  const env = ctx.requested?.env;
  if (env === undefined || !listed(ctx, env)) return null;
  return allowed === undefined || allowed.includes(env) ? env : null;
}

/** Decision honouring the user's request when it is listed (and among `allowed`); else no opinion. */
export function honourRequest(ctx: LoginContext, allowed?: readonly string[]): UseDecision | null {
  const env = requestedEnv(ctx, allowed);
  if (env === null) return null;
  const from = requestSourceName(ctx.requested?.from ?? "env");
  return stamped({ env, reason: `requested in ${from}` }, callSite(2));
}
