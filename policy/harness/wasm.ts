// The portable harness: runs a bundle on quickjs-emscripten (QuickJS compiled to WASM) the way
// pam/core/policy.c runs it natively: a fresh runtime per evaluation, the same memory, stack
// and time limits, console output captured, and a parity prelude that hides what the newer WASM
// QuickJS has and the C one (2025-04-26) lacks.
//
// It does NOT validate the decision: checking shape and catalogue membership is the C sandbox's
// job and is never re-implemented here. It reports the raw outcome (the layer, the file, the
// value as the policy returned it, or an engine fault: load, throw, timeout, memory, stack);
// `env`/`deny` are read from the value only when it plainly has that form. Comparisons against
// the native engine (agree.ts) therefore cover env, deny, decidedBy and the engine fault class.
import type { QuickJSContext, QuickJSHandle, QuickJSWASMModule } from "quickjs-emscripten-core";
import type { Decision } from "../native";
import type { FaultName, LayerKind, LayerName } from "../sdk/contract";
import { PARITY_PRELUDE } from "./parity";

/** Limits, defaulting to the C sandbox's (pam/core/policy.h). */
export interface WasmLimits {
  readonly memoryBytes?: number;
  readonly stackBytes?: number;
  readonly timeoutMs?: number;
}

export const WASM_DEFAULTS = { memoryBytes: 16 << 20, stackBytes: 256 << 10, timeoutMs: 100 } as const;
// More than 256 KiB overflows the WASM engine's own stack before QuickJS notices (FACTS.md).
const WASM_STACK_MAX = 256 << 10;
const FILENAME = "policy.js";
const INTRINSICS = {
  BaseObjects: true,
  Date: true,
  Eval: true,
  StringNormalize: true,
  RegExp: true,
  RegExpCompiler: true,
  JSON: true,
  MapSet: true,
} as const;

/** An engine fault: the classes the engine itself detects, without validation. */
export interface WasmFault {
  readonly fault: Extract<FaultName, "load" | "throw" | "timeout" | "memory" | "stack">;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

/** The raw outcome of one evaluation, in the addon's result shape (policy/native.ts Decision):
 *  `env`, `deny` and `reason` are read from the value only when it plainly has that form. */
export interface WasmOutcome extends Omit<Decision, "fromBytecode" | "error"> {
  readonly fromBytecode: false;
  /** An engine fault; shape and unlisted are never reported here (no validation). */
  readonly error?: WasmFault;
  /** The layer's value exactly as returned (JSON form), for what the C side validates. */
  readonly value?: unknown;
}

let modulePromise: Promise<QuickJSWASMModule> | undefined;

/** Loads the WASM engine once per process (with require: jest rejects its dynamic import). */
export function wasmModule(): Promise<QuickJSWASMModule> {
  modulePromise ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const core = require("quickjs-emscripten-core") as typeof import("quickjs-emscripten-core");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const variant = require("@jitl/quickjs-wasmfile-release-sync").default;
    // The variant loads its Emscripten module with import(), which jest refuses: require it.
    const importModuleLoader = async () =>
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require("@jitl/quickjs-wasmfile-release-sync/emscripten-module") as never;
    return core.newQuickJSWASMModuleFromVariant({ ...variant, importModuleLoader });
  })();
  return modulePromise;
}

function position(stack: string | undefined): { line?: number; column?: number } {
  for (const frame of (stack ?? "").split("\n")) {
    const m = new RegExp(`\\(${FILENAME}:(\\d+):(\\d+)\\)`).exec(frame);
    if (m) return { line: Number(m[1]), column: Number(m[2]) };
  }
  return {};
}

function classify(message: string, interrupted: boolean): WasmFault["fault"] {
  if (interrupted) return "timeout";
  if (/out of memory/i.test(message)) return "memory";
  if (/stack overflow|call stack size/i.test(message)) return "stack";
  return "throw";
}

function layerName(layer: LayerKind | undefined, group: string | undefined): LayerName {
  return layer === "group" ? `group:${group}` : (layer ?? "host");
}

function faulted(error: WasmFault, logs: string[]): WasmOutcome {
  return { env: null, reason: error.message, decidedBy: "fault", fromBytecode: false, error, logs };
}

/** One loaded bundle in one runtime: `call` may run many times (the warm path). */
export class WasmSession {
  readonly logs: string[] = [];
  private interrupted = false;
  private deadline = Infinity;
  private readonly vm: QuickJSContext;
  private readonly dispose: () => void;

  private constructor(mod: QuickJSWASMModule, limits: WasmLimits) {
    const runtime = mod.newRuntime();
    runtime.setMemoryLimit(limits.memoryBytes ?? WASM_DEFAULTS.memoryBytes);
    runtime.setMaxStackSize(Math.min(limits.stackBytes ?? WASM_DEFAULTS.stackBytes, WASM_STACK_MAX));
    runtime.setInterruptHandler(() => {
      if (Date.now() > this.deadline) this.interrupted = true;
      return this.interrupted;
    });
    // The C sandbox's intrinsics (pam/core/policy_runtime.c), plus Eval, without which
    // quickjs-emscripten cannot run a script at all; the prelude takes eval back out.
    this.vm = runtime.newContext({ intrinsics: INTRINSICS });
    this.dispose = () => {
      this.vm.dispose();
      runtime.dispose();
    };
    // console.log/info/warn/error as the C sandbox writes them: "policy: " and the arguments
    // joined by spaces, plain objects and arrays as JSON.
    const console = this.vm.newObject();
    for (const name of ["log", "info", "warn", "error"]) {
      const fn = this.vm.newFunction(name, (...args: QuickJSHandle[]) => {
        const text = args.map((a) => {
          const v: unknown = this.vm.dump(a);
          return typeof v === "object" && v !== null && this.vm.typeof(a) !== "function" ? JSON.stringify(v) : String(v);
        });
        this.logs.push(`policy: ${text.join(" ")}`);
      });
      this.vm.setProp(console, name, fn);
      fn.dispose();
    }
    this.vm.setProp(this.vm.global, "console", console);
    console.dispose();
    this.vm.unwrapResult(this.vm.evalCode(PARITY_PRELUDE, "prelude.js")).dispose();
  }

  /** Starts a runtime and loads the bundle's source; a load fault comes back as `error`. */
  static async open(source: string, limits: WasmLimits = {}): Promise<{ session: WasmSession; error?: WasmFault }> {
    const session = new WasmSession(await wasmModule(), limits);
    const error = session.run(limits, () => session.vm.evalCode(source, FILENAME), "load");
    return error === undefined ? { session } : { session, error: error };
  }

  /** Calls `__chos.decide(ctx)` and reports the raw outcome. */
  call(ctx: unknown, limits: WasmLimits = {}): WasmOutcome {
    let result: QuickJSHandle | undefined;
    const error = this.run(limits, () => {
      const call = this.vm.evalCode(`__chos.decide(JSON.parse(${JSON.stringify(JSON.stringify(ctx))}))`, "<call>");
      if ("value" in call && call.value !== undefined) result = call.value;
      return call;
    }, "throw", true);
    if (error !== undefined || result === undefined) return faulted(error ?? { fault: "throw", message: "no result" }, this.logs);
    try {
      return this.read(result);
    } finally {
      result.dispose();
    }
  }

  close(): void {
    try {
      this.dispose();
    } catch (e) {
      // QuickJS asserts when freeing a runtime in which an async function was created without
      // the Promise intrinsic (it leaks; the C build, with NDEBUG, leaks silently). The outcome
      // was read already and the WASM module stays usable, so only a plain Error escapes here
      // for anything else (quickjs-emscripten's errors hold the WASM heap).
      if (!/gc_obj_list/.test(String((e as Error).message))) throw new Error(String((e as Error).message));
    }
  }

  private run(limits: WasmLimits, body: () => ReturnType<QuickJSContext["evalCode"]>, fault: "load" | "throw",
    keep = false): WasmFault | undefined {
    this.interrupted = false;
    this.deadline = Date.now() + (limits.timeoutMs ?? WASM_DEFAULTS.timeoutMs);
    const outcome = body();
    this.deadline = Infinity;
    if (!("error" in outcome) || outcome.error === undefined) {
      if (!keep) outcome.value.dispose();
      return undefined;
    }
    // Copied out as plain data: the handle's Error holds the WASM heap.
    const dumped = this.vm.dump(outcome.error) as { name?: string; message?: string; stack?: string } | string;
    outcome.error.dispose();
    // "NAME: message", as the C sandbox words it.
    const message =
      typeof dumped === "object" && dumped !== null
        ? `${dumped.name ?? "Error"}${dumped.message ? `: ${dumped.message}` : ""}`
        : `threw ${String(dumped)}`;
    const stack = typeof dumped === "object" && dumped !== null ? dumped.stack : undefined;
    const cls = classify(message, this.interrupted);
    const current = this.current();
    return {
      fault: fault === "load" && cls === "throw" ? "load" : cls,
      message,
      ...(current !== undefined ? { file: current } : {}),
      ...position(stack),
    };
  }

  private current(): string | undefined {
    const got = this.vm.evalCode("globalThis.__chos && __chos.current", "<current>");
    if ("error" in got && got.error) {
      got.error.dispose();
      return undefined;
    }
    const value = this.vm.dump(got.value);
    got.value.dispose();
    return typeof value === "string" ? value : undefined;
  }

  private read(result: QuickJSHandle): WasmOutcome {
    const text = (h: QuickJSHandle, key: string): string | undefined => {
      const prop = this.vm.getProp(h, key);
      const v = this.vm.dump(prop);
      prop.dispose();
      return typeof v === "string" ? v : undefined;
    };
    const layer = text(result, "layer") as LayerKind | undefined;
    const group = text(result, "group");
    const file = text(result, "file");
    const valueHandle = this.vm.getProp(result, "value");
    let value: unknown;
    let at: string | undefined;
    try {
      value = this.vm.dump(valueHandle);
      if (this.vm.typeof(valueHandle) === "object") at = text(valueHandle, "__at");
    } finally {
      valueHandle.dispose();
    }
    const [line, column] = (at ?? "").split(":").map(Number);
    const plain = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
    const env = typeof plain?.env === "string" ? plain.env : null;
    const deny = typeof plain?.deny === "string" ? plain.deny : undefined;
    return {
      env,
      ...(deny !== undefined ? { deny } : {}),
      reason: deny ?? (typeof plain?.reason === "string" ? plain.reason : ""),
      decidedBy: layerName(layer, group),
      ...(file !== undefined ? { file } : {}),
      ...(line ? { line, column } : {}),
      value,
      fromBytecode: false,
      logs: this.logs,
    };
  }
}

/** One cold evaluation (runtime + load + call + free), like one call of the addon's decide. */
export async function wasmDecide(source: string, ctx: unknown, limits: WasmLimits = {}): Promise<WasmOutcome> {
  const { session, error } = await WasmSession.open(source, limits);
  try {
    if (error !== undefined) return faulted(error, session.logs);
    return session.call(ctx, limits);
  } finally {
    session.close();
  }
}
