// The native addon (dist/native/chos_addon.node, built from pam/addon/ over the C core) and
// the types of its API: the one loader every Node caller uses, so tests, the CLI and the
// benchmarks run the very C code the PAM module runs. Each function type below is the
// contract pam/addon/addon.cc implements.
import * as path from "path";
import type { FaultName, LayerName, LoginContext } from "./sdk/contract";

/** What decide() takes as the login: a LoginContext without `environments`, which the C side
 *  fills from the catalogue it loads. */
export type LoginContextInput = Omit<LoginContext, "environments">;

/** Options of decide(); the limits default to the PAM module's (policy.h). */
export interface DecideOptions {
  /** Path of the bundle (.js); a fresh `BUNDLE.qbc` beside it is used unless preferSource. */
  readonly bundle: string;
  /** Path of the catalogue (the seed's /etc/chos format). */
  readonly catalogue: string;
  /** The facts of the login. */
  readonly context: LoginContextInput;
  /** Accept files and directories not owned by root (tests, non-root builds); the mode checks
   *  still apply, to the directories above each file too. */
  readonly trustAnyOwner?: boolean;
  /** Judge the catalogue and bundle files alone, not the directories above them: for tools
   *  evaluating files they were given or built (chos-policy explain DIR, test), never a login. */
  readonly trustFileOnly?: boolean;
  /** Load the source even when a fresh bytecode file exists. */
  readonly preferSource?: boolean;
  /** Run the bundle as one script, every group file registered (what the WASM harness and
   *  explain run), not only the login's own groups' units. */
  readonly wholeBundle?: boolean;
  /** Memory limit of the sandbox in bytes (default 16 MiB). */
  readonly memoryBytes?: number;
  /** Stack limit of the sandbox in bytes (default 256 KiB). */
  readonly stackBytes?: number;
  /** Deadline for loading and running the policy, in milliseconds (default 100). */
  readonly timeoutMs?: number;
}

/** The trust options of parseCatalogue() and checkTree(), as in DecideOptions. */
export type TrustOptions = Pick<DecideOptions, "trustAnyOwner" | "trustFileOnly">;

/** Options of open(): those of decide() but the login, which each call of decide brings. */
export type OpenOptions = Omit<DecideOptions, "context">;

/** A policy loaded once for many evaluations (chos_policy_open): its runtime is kept, so what
 *  the policy leaves in its globals is seen by the next call. Each call has its own deadline,
 *  memory limit and console budget; after a timeout, memory or stack fault every later call is
 *  a `load` fault saying the runtime was discarded. */
export interface LoadedPolicy {
  /** Evaluates the policy for one login (chos_policy_evaluate), as decide() would; the first
   *  call's logs also hold the lines written while loading. Throws once closed. */
  decide(context: LoginContextInput): Decision;
  /** Frees the runtime now rather than when the handle is collected. */
  close(): void;
}

/** A policy fault: reported, never turned into a decision (the caller applies on_error). */
export interface PolicyFault {
  /** Its class. */
  readonly fault: FaultName;
  /** The exception text or what was wrong with the value, one line. */
  readonly message: string;
  /** The policy file running or deciding at the time ("index.ts", "policy.d/x.ts"). */
  readonly file?: string;
  /** Line in the bundle (1-based), mapped to .ts through the source map by the CLI. */
  readonly line?: number;
  /** Column in the bundle (1-based). */
  readonly column?: number;
}

/** The outcome of one evaluation. */
export interface Decision {
  /** The listed environment chosen, or null (host, denial or fault). */
  readonly env: string | null;
  /** The denial's text, when the login is denied. */
  readonly deny?: string;
  /** Why: the policy's reason, the precedence's, or the fault message. */
  readonly reason: string;
  /** The layer that decided ("site", "group:NAME", "request", "default", "host"), or "fault". */
  readonly decidedBy: LayerName | "fault";
  /** The policy file that decided (site and group layers). */
  readonly file?: string;
  /** Bundle line of the decision (from the SDK helpers' `__at`), when known. */
  readonly line?: number;
  /** Bundle column of the decision, when known. */
  readonly column?: number;
  /** Whether the bytecode file was used. */
  readonly fromBytecode: boolean;
  /** Units run in the runtime so far: the base and the files of the groups of the logins
   *  evaluated in it (1 when run whole). */
  readonly units: number;
  /** Present when the policy faulted. */
  readonly error?: PolicyFault;
  /** What the policy logged (console.*, as "policy: ...") and the engine's notices. */
  readonly logs: string[];
}

/** One catalogue entry. */
export interface CatalogueEntry {
  /** Environment name. */
  readonly name: string;
  /** Absolute path of its tree. */
  readonly path: string;
}

/** A user as NSS reports it. */
export interface UserFacts {
  /** Login name. */
  readonly name: string;
  /** Numeric user id. */
  readonly uid: number;
  /** Numeric primary group id. */
  readonly gid: number;
  /** Home directory. */
  readonly home: string;
  /** Login shell. */
  readonly shell: string;
  /** Group names, primary group first. */
  readonly groups: string[];
}

/** The addon's exports. */
export interface ChosAddon {
  /** Evaluates a bundle for one login in a fresh sandbox (chos_policy_decide). Throws only for
   *  bad options or an unusable catalogue; policy faults come back in `error`. */
  decide(options: DecideOptions): Decision;
  /** Loads a bundle and its catalogue once for warm calls. Throws for bad options, an
   *  unusable catalogue, or a policy that cannot be loaded ("policy load: ..." and the like). */
  open(options: OpenOptions): LoadedPolicy;
  /** Compiles a bundle to `bundlePath + ".qbc"` (chos_policy_compile_file). */
  compile(bundlePath: string): { bytes: number };
  /** The core's SHA-256 of data, as 64 lowercase hex digits: what the bytecode header holds.
   *  On the fastest implementation (chos_sha256) unless `portable`. Throws a TypeError
   *  unless data is a Uint8Array. */
  sha256(data: Uint8Array, options?: { portable?: boolean }): string;
  /** Whether the fastest implementation here is the processor's SHA extensions. */
  sha256Accelerated(): boolean;
  /** Loads a catalogue with the trust rule; throws an Error naming the file and line. */
  parseCatalogue(path: string, options?: TrustOptions): CatalogueEntry[];
  /** The trust rule for a tree (a catalogue entry's path) and every directory above it, as a
   *  session checks it before entering; throws an Error naming the directory that fails. */
  checkTree(path: string, options?: TrustOptions): void;
  /** NSS facts of a user; throws when the user does not exist. */
  userFacts(name: string): UserFacts;
  /** The short host name. */
  hostName(): string;
}

/** Where the build puts the addon: dist/native under the repository root (this file lives one
 *  level below the root in the sources, policy/, and in the bundled CLI, dist/). */
export const addonPath = path.resolve(__dirname, "..", "dist", "native", "chos_addon.node");

let loaded: ChosAddon | undefined;

/** The addon, loaded on first use; throws an Error saying to build it when it is missing. */
export function addon(): ChosAddon {
  if (loaded === undefined) {
    try {
      loaded = require(addonPath) as ChosAddon;
    } catch (e) {
      throw new Error(`cannot load ${addonPath} (${(e as Error).message}): run \`npm run build:native\``);
    }
  }
  return loaded;
}
