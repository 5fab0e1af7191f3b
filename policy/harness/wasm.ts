// The portable harness: runs a bundle on quickjs-emscripten (QuickJS compiled to WASM) the way
// pam/core/policy/policy.c runs it natively: a fresh runtime per evaluation, the same memory
// and time limits (the time limit on the same clock, the evaluating thread's CPU time:
// thread-clock.ts), the same stack limit up to 256 KiB, console output captured, and a parity prelude that hides what the newer WASM
// QuickJS has and the C one (2025-04-26) lacks.
//
// It does NOT validate the decision: checking shape and catalogue membership is the C sandbox's
// job and is never re-implemented here. It reports the raw outcome (the layer, the file, the
// value as the policy returned it, or an engine fault: load, throw, timeout, memory, stack);
// `env`/`deny` are read from the value only when it plainly has that form. Comparisons against
// the native engine (agree.ts) therefore cover env, deny, decidedBy and the engine fault class.
import type { QuickJSContext, QuickJSHandle, QuickJSWASMModule } from "quickjs-emscripten-core";
import type { Decision } from "../native";
import { type FaultName, type LayerKind, layerName } from "../sdk/contract";
import { PARITY_PRELUDE } from "./parity";
import { ThreadClock } from "./thread-clock";

/** Limits, defaulting to the C sandbox's (pam/core/policy/policy.h): timeoutMs counts this
 *  thread's CPU time (thread-clock.ts), stackBytes is capped at WASM_STACK_MAX. */
export interface WasmLimits {
  readonly memoryBytes?: number;
  readonly stackBytes?: number;
  readonly timeoutMs?: number;
}

/** The C sandbox's default limits, written here so the harness runs without the addon;
 *  test/core/constants.test.ts checks them against the core's. */
export const WASM_DEFAULTS = { memoryBytes: 16 << 20, stackBytes: 256 << 10, timeoutMs: 100 } as const;
// More than 256 KiB overflows the WASM engine's own stack before QuickJS notices (measured with quickjs-emscripten 0.32).
const WASM_STACK_MAX = 256 << 10;
const FILENAME = "policy.js";
// pam/core/policy/policy_runtime.c CONSOLE_LINE_MAX and policy_internal.h CHOS_CONSOLE_LINES_MAX.
const CONSOLE_LINE_MAX = 1000;
const CONSOLE_LINES_MAX = 64;
const INTRINSICS = {
  BaseObjects: true,
  Date: true,
  Eval: true,
  StringNormalize: true,
  RegExp: true,
  RegExpCompiler: true,
  JSON: true,
  MapSet: true,
  Promise: true,
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
export interface WasmOutcome extends Omit<Decision, "fromBytecode" | "error" | "units"> {
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

// The innermost frame in the bundle: "at NAME (policy.js:L:C)", or "at policy.js:L:C" for
// the position of a syntax error.
const FRAME = new RegExp(`(?:\\(|at )${FILENAME}:(\\d+):(\\d+)\\)?$`);

function position(stack: string | undefined): { line?: number; column?: number } {
  for (const frame of (stack ?? "").split("\n")) {
    const m = FRAME.exec(frame);
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

function faulted(error: WasmFault, logs: string[]): WasmOutcome {
  return { env: null, reason: error.message, decidedBy: "fault", fromBytecode: false, error, logs };
}

// What the host calls inside the VM, made before the bundle runs so it holds the original
// built-ins. It reads only own data properties (never a getter, and there is no Proxy): like the
// C validator it runs no policy code while reading what the policy returned.
const HOST_KIT = `(() => {
  "use strict";
  const gopd = Object.getOwnPropertyDescriptor, ownKeys = Reflect.ownKeys, apply = Reflect.apply;
  const stringify = JSON.stringify, parse = JSON.parse, global = globalThis, Error = global.Error;
  const data = (o, k) => {
    if (o === null || (typeof o !== "object" && typeof o !== "function")) return undefined;
    const d = gopd(o, k);
    return d !== undefined && "value" in d ? d.value : undefined;
  };
  const plain = (v, depth) => {
    if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
    if (typeof v !== "object" || depth > 8) return { "[not data]": typeof v };
    const out = {};
    for (const k of ownKeys(v)) {
      const d = gopd(v, k);
      if (typeof k !== "string" || !d.enumerable) continue;
      out[k] = "value" in d ? plain(d.value, depth + 1) : { "[not data]": "getter" };
    }
    return out;
  };
  const chos = () => data(global, "__chos");
  return {
    loaded: () => typeof data(chos(), "decide") === "function",
    isError: (e) => e instanceof Error,
    decide: (json) => apply(data(chos(), "decide"), chos(), [parse(json)]),
    current: () => { const c = data(chos(), "current"); return typeof c === "string" ? c : undefined; },
    read: (r) => {
      const value = data(r, "value");
      return stringify({ layer: data(r, "layer"), group: data(r, "group"), file: data(r, "file"),
        value: plain(value, 0), at: data(value, "__at") });
    },
  };
})()`;

/** What the kit's read() returns. */
interface Envelope {
  readonly layer?: unknown;
  readonly group?: unknown;
  readonly file?: unknown;
  readonly value?: unknown;
  readonly at?: unknown;
}

/** One loaded bundle in one runtime: `call` may run many times (the warm path). */
export class WasmSession {
  readonly logs: string[] = [];
  private consoleLines = 0;
  private interrupted = false;
  /** The deadline on this.clock, and the wall-clock time before which it cannot have passed. */
  private deadline = Infinity;
  private wallFloor = Infinity;
  private readonly clock = new ThreadClock();
  private readonly vm: QuickJSContext;
  private readonly kit: QuickJSHandle;
  private readonly dispose: () => void;

  private constructor(
    mod: QuickJSWASMModule,
    private readonly limits: Required<WasmLimits>,
  ) {
    const runtime = mod.newRuntime();
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(limits.stackBytes);
    // The thread's CPU time never runs ahead of the wall clock, so until the wall clock passes
    // the deadline there is no need to read the (slower) CPU clock.
    runtime.setInterruptHandler(() => {
      if (!this.interrupted && Number(process.hrtime.bigint()) > this.wallFloor && this.clock.nowNs() > this.deadline) {
        this.interrupted = true;
      }
      return this.interrupted;
    });
    // The C sandbox's intrinsics (pam/core/policy/policy_runtime.c), plus Eval, without which
    // quickjs-emscripten cannot run a script at all; the prelude takes eval back out.
    this.vm = runtime.newContext({ intrinsics: INTRINSICS });
    // console.log/info/warn/error as the C sandbox writes them (policy_runtime.c): "policy: "
    // and the arguments joined by spaces, plain objects and arrays as JSON, each line cut at
    // CONSOLE_LINE_MAX bytes, at most CONSOLE_LINES_MAX lines.
    const console = this.vm.newObject();
    for (const name of ["log", "info", "warn", "error"]) {
      const fn = this.vm.newFunction(name, (...args: QuickJSHandle[]) => {
        if (++this.consoleLines > CONSOLE_LINES_MAX) {
          if (this.consoleLines === CONSOLE_LINES_MAX + 1) {
            this.logs.push(`policy: more than ${CONSOLE_LINES_MAX} console lines; the rest is dropped`);
          }
          return;
        }
        const text = args.map((a) => {
          const v: unknown = this.vm.dump(a);
          return typeof v === "object" && v !== null && this.vm.typeof(a) !== "function"
            ? JSON.stringify(v)
            : String(v);
        });
        const line = Buffer.from(text.join(" ")).subarray(0, CONSOLE_LINE_MAX).toString();
        this.logs.push(`policy: ${line}`);
      });
      this.vm.setProp(console, name, fn);
      fn.dispose();
    }
    this.vm.setProp(this.vm.global, "console", console);
    console.dispose();
    this.vm.unwrapResult(this.vm.evalCode(PARITY_PRELUDE, "prelude.js")).dispose();
    this.kit = this.vm.unwrapResult(this.vm.evalCode(HOST_KIT, "kit.js"));
    this.dispose = () => {
      this.clock.close();
      this.kit.dispose();
      this.vm.dispose();
      runtime.dispose();
    };
  }

  /** Starts a runtime and runs the bundle's source; a fault while loading comes back as `error`.
   *  The deadline starts here and, as in the C sandbox, covers loading and the first call. */
  static async open(source: string, limits: WasmLimits = {}): Promise<{ session: WasmSession; error?: WasmFault }> {
    const session = new WasmSession(await wasmModule(), {
      memoryBytes: limits.memoryBytes ?? WASM_DEFAULTS.memoryBytes,
      stackBytes: Math.min(limits.stackBytes ?? WASM_DEFAULTS.stackBytes, WASM_STACK_MAX),
      timeoutMs: limits.timeoutMs ?? WASM_DEFAULTS.timeoutMs,
    });
    session.startDeadline();
    const loaded = session.vm.evalCode(source, FILENAME);
    if (loaded.error !== undefined) return { session, error: session.fault(loaded.error, source) };
    loaded.value.dispose();
    if (session.kitCall("loaded") !== true) {
      return {
        session,
        error: {
          fault: "load",
          message: "the bundle does not set globalThis.__chos.decide: build it with `chos-policy build`",
        },
      };
    }
    return { session };
  }

  /** Calls `__chos.decide(ctx)` and reports the raw outcome; `sameDeadline` continues the
   *  deadline open() started (one cold evaluation), else a new one starts (a warm call). */
  call(ctx: unknown, sameDeadline = false): WasmOutcome {
    if (!sameDeadline) this.startDeadline();
    const json = this.vm.newString(JSON.stringify(ctx));
    const decide = this.vm.getProp(this.kit, "decide");
    const called = this.vm.callFunction(decide, this.vm.undefined, json);
    decide.dispose();
    json.dispose();
    if (called.error !== undefined) return faulted(this.fault(called.error), this.logs);
    try {
      const read = this.kitCall("read", called.value);
      return this.outcome(JSON.parse(String(read)) as Envelope);
    } finally {
      called.value.dispose();
      this.deadline = this.wallFloor = Infinity;
    }
  }

  close(): void {
    try {
      this.dispose();
    } catch (e) {
      // quickjs-emscripten's errors hold the WASM heap: only a plain Error escapes.
      throw new Error(String((e as Error).message));
    }
  }

  private startDeadline(): void {
    this.interrupted = false;
    const budget = this.limits.timeoutMs * 1e6;
    this.deadline = this.clock.nowNs() + budget;
    this.wallFloor = Number(process.hrtime.bigint()) + budget;
  }

  /** Calls a kit function (which runs no policy code) and returns its result as plain data. */
  private kitCall(name: string, ...args: QuickJSHandle[]): unknown {
    const fn = this.vm.getProp(this.kit, name);
    try {
      const result = this.vm.callFunction(fn, this.vm.undefined, ...args);
      if (result.error !== undefined) {
        const message = String(this.vm.dump(result.error));
        result.error.dispose();
        throw new Error(`WASM harness: ${name} failed: ${message}`);
      }
      const value: unknown = this.vm.dump(result.value);
      result.value.dispose();
      return value;
    } finally {
      fn.dispose();
    }
  }

  /** The pending exception as a fault, worded as the C sandbox words it (policy_fault.c). */
  private fault(handle: QuickJSHandle, loadedSource?: string): WasmFault {
    // Copied out as plain data: the handle's Error holds the WASM heap.
    const isError = this.vm.typeof(handle) === "object" && this.kitCall("isError", handle) === true;
    const dumped: unknown = this.vm.dump(handle);
    handle.dispose();
    const error = isError ? (dumped as { name?: string; message?: string; stack?: string }) : undefined;
    const text = error
      ? `${error.name ?? "Error"}${error.message ? `: ${error.message}` : ""}`
      : typeof dumped === "object" && dumped !== null
        ? "threw a value that is not an Error"
        : `threw ${String(dumped)}`;
    this.deadline = this.wallFloor = Infinity;
    let fault = classify(text, this.interrupted);
    // A bundle that does not compile is a load fault; one whose top level throws is a throw.
    if (fault === "throw" && loadedSource !== undefined && error?.name === "SyntaxError") {
      const compiled = this.vm.evalCode(loadedSource, FILENAME, { compileOnly: true });
      if (compiled.error !== undefined) fault = "load";
      (compiled.error ?? compiled.value).dispose();
    }
    const message =
      fault === "timeout"
        ? `the policy ran longer than ${this.limits.timeoutMs} ms`
        : fault === "memory"
          ? `the policy used more than ${this.limits.memoryBytes} bytes of memory`
          : fault === "stack"
            ? `the policy overflowed its ${this.limits.stackBytes}-byte stack`
            : text;
    // Reading __chos.current needs some room after an out-of-memory fault.
    const current = (() => {
      try {
        return this.kitCall("current");
      } catch {
        return undefined;
      }
    })();
    return {
      fault,
      message,
      ...(typeof current === "string" ? { file: current } : {}),
      ...position(error?.stack),
    };
  }

  private outcome(envelope: Envelope): WasmOutcome {
    const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
    const value = envelope.value;
    const plain = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
    const [line, column] = (str(envelope.at) ?? "").split(":").map(Number);
    const deny = str(plain?.deny);
    const file = str(envelope.file);
    return {
      env: str(plain?.env) ?? null,
      ...(deny !== undefined ? { deny } : {}),
      reason: deny ?? str(plain?.reason) ?? "",
      decidedBy: layerName((str(envelope.layer) as LayerKind | undefined) ?? "host", str(envelope.group)),
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
    return session.call(ctx, true);
  } finally {
    session.close();
  }
}
