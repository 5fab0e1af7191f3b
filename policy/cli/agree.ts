// Native vs WASM: do the two engines agree on one evaluation? The WASM harness does not validate
// decisions (that is the C sandbox's job, never re-implemented), so agreement is judged on what
// both can honestly report:
//  - the native engine decided: the WASM run finished without a fault, from the same layer,
//    with the same env and deny;
//  - the native engine found an engine fault (load, throw, timeout, memory, stack): the WASM run
//    faulted with the same class;
//  - the native validator rejected the value (shape, unlisted): the WASM run finished without a
//    fault, in the same policy file (its value is what the validator rejected).
import type { WasmOutcome } from "../harness/wasm";
import type { NativeDecision } from "./engine";

const VALIDATOR_FAULTS = new Set(["shape", "unlisted"]);

function describeNative(d: NativeDecision): string {
  if (d.error) return `${d.error.fault} fault`;
  return `${d.deny !== undefined ? `deny "${d.deny}"` : (d.env ?? "host")} by ${d.decidedBy}`;
}

function describeWasm(w: WasmOutcome): string {
  if (w.error) return `${w.error.fault} fault`;
  return `${w.deny !== undefined ? `deny "${w.deny}"` : (w.env ?? "host")} by ${w.decidedBy}`;
}

/** Undefined when the engines agree, else one line saying how they differ. */
export function disagreement(n: NativeDecision, w: WasmOutcome): string | undefined {
  const fault = n.error?.fault;
  let agree: boolean;
  if (fault !== undefined && VALIDATOR_FAULTS.has(fault)) agree = !w.error && w.file === n.error?.file;
  else if (fault !== undefined) agree = w.error?.fault === fault;
  else agree = !w.error && w.decidedBy === n.decidedBy && w.env === n.env && w.deny === n.deny;
  return agree ? undefined : `engines disagree: native ${describeNative(n)}, wasm ${describeWasm(w)}`;
}
