// The groups a step is judged by are the ones its tasks run with: the step credential's, which
// slurmctld looked up once for the job (Slurm's default, LaunchParameters' send_gids), not a
// second lookup on every node. n2's NSS has lost dave's membership of physics (its slurmd sees an
// /etc/group without it); his tasks there still run with physics, as slurmctld sent, so the
// policy must see physics there too, as on n1: both land in trixie by group:physics.
import type { TestSite } from "../system/lib/site";
import { PRETTY } from "../system/lib/trees";
import type { SlurmCluster } from "./lib/cluster";
import { slurmSuite } from "./lib/suite";

let site: TestSite;
let cluster: SlurmCluster;
slurmSuite({ droppedMembers: { n2: { physics: ["dave"] } } }, (s, c) => {
  site = s;
  cluster = c;
});

test("n2's NSS lost dave's physics membership: his tasks there still have it, and the policy judges by it", async () => {
  const mark = site.ns.syslogMark();
  const where =
    'echo "$SLURMD_NODENAME $(id -Gn | tr " " "\\n" | grep -x physics) $CHOS $(grep ^PRETTY_NAME= /etc/os-release | cut -d\\" -f2)"';
  const r = cluster.run("dave", ["srun", "-N2", "sh", "-c", where]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(r.stdout.trim().split("\n").sort()).toEqual([
    `n1 physics trixie ${PRETTY.trixie}`,
    `n2 physics trixie ${PRETTY.trixie}`,
  ]);
  const text = await site.ns.syslogSince(mark, /(spank_chos: user=.*\n[\s\S]*){2}/);
  const logged = text.split("\n").filter((l) => l.includes("spank_chos: user="));
  expect(logged).toHaveLength(2);
  for (const l of logged) expect(l).toMatch(/user="dave" env=trixie .* layer=group:physics .* step=0$/);
});
