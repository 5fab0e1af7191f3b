// What the module's tracepoint probes can call, read from the machine code of chos.ko as built
// for each kernel of VM_KERNELS (test/vm/build-kmod; Debian 12's is the CMake build's). The
// probes may not sleep or take a sleeping lock (kmod/tasks.c's header): every function they can
// reach, through the module's own functions, must be on the list below, each with the reason it
// never sleeps. Debian's kernels lack CONFIG_DEBUG_ATOMIC_SLEEP, so a clean dmesg in the VM
// proves little; this proves what the compiled code can call, on every kernel, inlined headers
// included. It cannot see inside the kernel's own functions: the reasons below are about those.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { repoRoot, VM_KERNELS } from "./lib/vm";

/** The kernel functions a probe may reach, and why none of them sleeps. */
const ALLOWED: ReadonlyMap<string, string> = new Map([
  ["__fentry__", "the ftrace hook at every function's entry, patched to a nop"],
  ["__x86_return_thunk", "a return instruction (retbleed mitigation)"],
  ["__rcu_read_lock", "preemptible RCU's read lock: a per-task counter"],
  ["__rcu_read_unlock", "preemptible RCU's read unlock: a counter, at worst a raw-locked report"],
  ["__SCT__preempt_schedule", "preempt_enable() rescheduling when preemption was on: not a sleep"],
  ["queue_work_on", "the workqueue's raw pool lock and a wake-up under the scheduler's raw locks"],
  ["call_rcu", "queues the callback with interrupts off; never allocates"],
  ["___ratelimit", "printk's rate limit: a raw spinlock, taken with trylock"],
  ["_printk", "printk is lockless (its ring buffer), consoles are flushed elsewhere on PREEMPT_RT"],
  ["refcount_warn_saturate", "a WARN on a saturated refcount: printk"],
  ["__ubsan_handle_out_of_bounds", "7.x's UBSAN bounds report: printk"],
]);

/** The ROOTS' callees outside the module, given objdump -dr's listing of it. */
function reachableCalls(listing: string, roots: readonly string[]): Set<string> {
  // Each function's control transfers: direct targets (<name+0x..>) and relocated ones
  // (the symbol, or SECTION+offset for a jump into another section such as .text.unlikely).
  const callees = new Map<string, Set<string>>();
  const starts = new Map<string, { address: number; name: string }[]>();
  let section = "";
  let current = "";
  // A transfer's direct operand counts only when no relocation follows it: an unresolved one
  // shows a placeholder address, which may fall in the next function.
  let pending: { direct: string | undefined } | undefined;
  const commit = (): void => {
    if (pending?.direct && pending.direct !== current) callees.get(current)?.add(pending.direct);
    pending = undefined;
  };
  const sectionRefs: { from: string; section: string; offset: number }[] = [];
  for (const line of listing.split("\n")) {
    const reloc = /^\s+[0-9a-f]+: R_X86_64_\w+\t(\S+?)([+-]0x[0-9a-f]+)?$/.exec(line);
    if (reloc) {
      if (!pending) continue;
      if (reloc[1].startsWith(".")) {
        const addend = reloc[2] ? Number.parseInt(reloc[2].slice(3), 16) * (reloc[2][0] === "-" ? -1 : 1) : 0;
        // PC-relative: the displacement is 4 bytes before the next instruction.
        sectionRefs.push({ from: current, section: reloc[1], offset: addend + 4 });
      } else {
        callees.get(current)?.add(reloc[1]);
      }
      pending = undefined;
      continue;
    }
    commit();
    const sectionMatch = /^Disassembly of section (\S+):$/.exec(line);
    if (sectionMatch) {
      section = sectionMatch[1];
      continue;
    }
    const fn = /^([0-9a-f]+) <(\S+)>:$/.exec(line);
    if (fn) {
      current = fn[2];
      callees.set(current, new Set());
      const list = starts.get(section) ?? [];
      list.push({ address: Number.parseInt(fn[1], 16), name: current });
      starts.set(section, list);
      continue;
    }
    const insn = /^\s+[0-9a-f]+:\t(\S+)\s*(.*)$/.exec(line);
    if (!insn || !/^(call|jmp|j[a-z]+)$/.test(insn[1])) continue;
    if (insn[2].startsWith("*")) callees.get(current)?.add(`indirect call in ${current}`);
    pending = { direct: /<([^+>]+)/.exec(insn[2])?.[1] };
  }
  commit();
  for (const ref of sectionRefs) {
    const inSection = (starts.get(ref.section) ?? []).filter((f) => f.address <= ref.offset);
    const target = inSection.sort((a, b) => b.address - a.address)[0];
    callees.get(ref.from)?.add(target ? target.name : `${ref.section}+${ref.offset}`);
  }

  const external = new Set<string>();
  const seen = new Set<string>();
  const queue = [...roots];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const next = callees.get(name);
    if (next) queue.push(...next);
    else external.add(name);
  }
  return external;
}

/** chos.ko as built for kernel (the same module test/vm/run boots). */
function moduleFor(kernel: string): string {
  const run = (cmd: string, args: string[]): string => {
    const result = spawnSync(cmd, args, { cwd: repoRoot, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${result.stderr}`);
    return result.stdout.trim();
  };
  const kdir = run("test/vm/kernel", [kernel]);
  if (run("cat", [path.join(kdir, "build")]) === "host") return path.join(repoRoot, "dist/native/chos.ko");
  return run("test/vm/build-kmod", [kdir, path.join(repoRoot, "build/vm-kmod", kernel)]);
}

describe.each(VM_KERNELS)("%s: the tracepoint probes of chos.ko", (kernel) => {
  test("reach only kernel functions that never sleep nor take a sleeping lock", () => {
    const listing = spawnSync("objdump", ["-dr", "--no-show-raw-insn", moduleFor(kernel)], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    expect(listing.status).toBe(0);
    const calls = reachableCalls(listing.stdout, ["chos_on_fork", "chos_on_exit"]);
    // The probes do reach these: the listing was read right.
    expect(calls).toContain("queue_work_on");
    expect(calls).toContain("call_rcu");
    expect([...calls].filter((name) => !ALLOWED.has(name)).sort()).toEqual([]);
  }, 300_000);
});
