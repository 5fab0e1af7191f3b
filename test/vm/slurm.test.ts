// A Slurm node with the kmod backend inside Debian 12's kernel under QEMU: munged, slurmctld
// and slurmd from the image's Slurm 22.05, spank_chos.so with backend=kmod, the example policy
// built here with the real CLI. One node on one kernel: the per-node logic is test/slurm's,
// against a real two-node cluster on the host; this proves the kernel link's path. Sequence:
// test/vm/suites/slurm.sh.
import { expectCheck, runVmWithExamplePolicy, type VmResult } from "./lib/vm";

let result: VmResult;
beforeAll(async () => {
  result = await runVmWithExamplePolicy("test/vm/suites/slurm.sh", "bookworm");
}, 600_000);

test("the Slurm suite ran to the end inside the VM with no kernel warnings", () => {
  expect(result.output).toContain("dmesg problems: 0\n");
  expect(result.status).toBe(0);
});
test("munged, slurmctld and slurmd start in the VM and the node is idle", () => expectCheck(result, "slurm-starts"));
test("srun: alice's task runs in trixie and bob's in tiny, each with its kernel link and $CHOS", () =>
  expectCheck(result, "srun-lands-in-policy-tree"));
test("srun --chos=tiny -n2: both of alice's tasks run in tiny", () =>
  expectCheck(result, "srun-chos-option-two-tasks"));
test("sbatch: the batch script and the step it starts run in the tree", () =>
  expectCheck(result, "sbatch-runs-in-tree"));
test("each step logs one line with backend=kmod and the job's ids", () =>
  expectCheck(result, "step-log-lines-say-kmod"));
test("the node's mount table and root's link are unchanged by the steps", () =>
  expectCheck(result, "node-mounts-and-link-unchanged"));
