// The precedence, written once and compiled into every bundle (see pam/core/policy/policy.h), so that an
// empty policy behaves exactly like the seed's CHOS:
//   1. the site entry (index.ts);
//   2. if it has no opinion, the group files of the user's groups, in the user's group order
//      (primary group first);
//   3. then the user's request, if the catalogue lists it;
//   4. then the catalogue's `default` environment, if listed;
//   5. else the host (no switch).
// Only null and undefined mean "no opinion": anything else a policy returns is that layer's
// decision, and the C sandbox checks its shape and that its environment is listed.
import {
  type BundleGlobal,
  type LoginContext,
  type PolicyFunction,
  type PrecedenceResult,
  requestSourceName,
} from "./contract";

/** One policy file as the bundle entry registers it. */
export interface PolicyFile {
  /** Path inside the policy directory: "index.ts" or "policy.d/<group>.ts". */
  readonly file: string;
  /** Its default export. */
  readonly policy: PolicyFunction;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Builds the `__chos` object for a site entry and its group files (keyed by group name). */
export function precedence(site: PolicyFile, groups: ReadonlyMap<string, PolicyFile>): BundleGlobal {
  const chos: BundleGlobal = {
    current: undefined,
    decide(input: LoginContext): PrecedenceResult {
      // Frozen so that one layer cannot change the facts the next layer (or the C side) sees.
      const ctx = deepFreeze(input);
      chos.current = site.file;
      const siteValue = site.policy(ctx);
      if (siteValue !== null && siteValue !== undefined) return { layer: "site", file: site.file, value: siteValue };
      const seen = new Set<string>();
      for (const group of ctx.user.groups) {
        const entry = groups.get(group);
        if (entry === undefined || seen.has(group)) continue;
        seen.add(group);
        chos.current = entry.file;
        const value = entry.policy(ctx);
        if (value !== null && value !== undefined) return { layer: "group", group, file: entry.file, value };
      }
      chos.current = undefined;
      const requested = ctx.requested;
      if (requested !== null && ctx.environments.includes(requested.env)) {
        const from = requestSourceName(requested.from);
        return { layer: "request", value: { env: requested.env, reason: `requested in ${from}` } };
      }
      if (ctx.environments.includes("default")) {
        return { layer: "default", value: { env: "default", reason: "the catalogue's default" } };
      }
      return { layer: "host", value: null };
    },
  };
  return chos;
}

/** A group unit's module body, as the bundler wraps esbuild's CommonJS output (policy/bundle/units.ts);
 *  `helpers` are esbuild's runtime helpers, defined once by the base unit. */
export type UnitBody = (
  module: { exports: unknown },
  exports: unknown,
  require: (name: string) => unknown,
  helpers: unknown,
) => void;

/** `__chos` as the base unit installs it: the precedence, plus what the group units call. */
export interface InstalledGlobal extends BundleGlobal {
  /** Runs one group unit's module body and registers its default export for `group`. */
  register(group: string, file: string, body: UnitBody): void;
  /** A shared module by the name the group units import it by ("chos-policy/sdk", "lib/a.ts"). */
  require(name: string): unknown;
  /** esbuild's runtime helpers, which the base unit sets after its own code (runtime-helpers.ts). */
  helpers?: unknown;
}

/** The name a group file's import is served by: the SDK's specifier as it is, a relative path
 *  resolved from policy.d/ ("../lib/a" is "lib/a", found as "lib/a.ts" or "lib/a/index.ts"). */
function sharedName(specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  const parts = ["policy.d"];
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part !== "") parts.push(part);
  }
  return parts.join("/");
}

/** Installs the precedence as `globalThis.__chos`; called by the base unit's generated entry.
 *  The group files come later, each from its own unit through `register`: all of them when the
 *  bundle runs whole, only the user's own at a login (pam/core/policy/policy_units.c). */
export function install(site: PolicyFile, modules: Readonly<Record<string, object>>): void {
  const groups = new Map<string, PolicyFile>();
  const shared = new Map<string, object>();
  for (const [name, namespace] of Object.entries(modules)) {
    // esbuild's CommonJS output reads a default export only from a module marked as ES.
    Object.defineProperty(namespace, "__esModule", { value: true });
    shared.set(name, namespace);
  }
  const require = (specifier: string): unknown => {
    const name = sharedName(specifier);
    const found = shared.get(name) ?? shared.get(`${name}.ts`) ?? shared.get(`${name}/index.ts`);
    if (found === undefined) throw new Error(`chos-policy: no shared module "${specifier}" in this bundle`);
    return found;
  };
  const chos: InstalledGlobal = Object.assign(precedence(site, groups), {
    register(group: string, file: string, body: UnitBody): void {
      const module = { exports: {} as { default?: unknown } };
      chos.current = file;
      body(module, module.exports, require, chos.helpers);
      chos.current = undefined;
      groups.set(group, { file, policy: module.exports.default as PolicyFile["policy"] });
    },
    require,
  });
  (globalThis as { __chos?: BundleGlobal }).__chos = chos;
}
