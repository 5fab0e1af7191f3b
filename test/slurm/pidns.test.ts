// spank_chos when slurmd runs in a PID namespace of its own (a containerised slurmd), so the
// pids slurmstepd sees are not the ones /proc shows: the step's view must still be the one its
// helper built. Opening /proc/HELPER_PID/ns/mnt named another process there, and the tasks
// ran in the host's view while $CHOS said tiny (found by the demo's batch row).
import { PRETTY } from "../system/lib/trees";
import { runBatch, type SlurmCluster } from "./lib/cluster";
import { slurmSuite } from "./lib/suite";

let cluster: SlurmCluster;
slurmSuite({ slurmdPidNamespace: true }, (_site, c) => {
  cluster = c;
});

const TREE = 'echo "$CHOS $(grep ^PRETTY_NAME= /etc/os-release | cut -d\\" -f2)"';

test("srun -N2 --chos=tiny: every task is in tiny", () => {
  const r = cluster.run("alice", ["srun", "-N2", "--chos=tiny", "sh", "-c", TREE]);
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe(`tiny ${PRETTY.tiny}\ntiny ${PRETTY.tiny}\n`);
});

test("sbatch --chos=tiny: the batch script is in tiny", async () => {
  const b = await runBatch(cluster, "alice", ["--chos=tiny"], TREE);
  expect(b.output).toBe(`tiny ${PRETTY.tiny}\n`);
});
