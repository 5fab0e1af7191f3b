// A node that cannot look up the job's user (its directory service lags, or lost the entry):
// spank_chos cannot gather the step's facts there, which is a fault like a policy's, so the step
// follows on_error on that node (the host, or refused with the reason on the job's stderr) and logs one line saying why; the other node decides as usual. A fault never lets the
// tasks run on a view nobody chose, and never leaves srun without a reason.
import type { TestSite } from "../system/lib/site";
import { PRETTY } from "../system/lib/trees";
import type { SlurmCluster } from "./lib/cluster";
import { slurmSuite } from "./lib/suite";

let site: TestSite;
let cluster: SlurmCluster;
slurmSuite({ unknownUsers: { n2: ["alice"] } }, (s, c) => {
  site = s;
  cluster = c;
});

/** Each task prints its node, $CHOS and the PRETTY_NAME of the tree it sees. */
const WHERE = 'echo "$SLURMD_NODENAME $CHOS $(grep ^PRETTY_NAME= /etc/os-release | cut -d\\" -f2)"';

/** The spank_chos outcome line of the step that failed its facts, logged since mark. */
async function factsLine(mark: number): Promise<string> {
  const text = await site.ns.syslogSince(mark, /spank_chos: user=.*failed=facts.*\n/);
  return text.split("\n").find((l) => l.includes("failed=facts")) ?? "";
}

// As at a login whose user NSS does not know: no catalogue is read, so on_error=default has no
// default, and the task runs on the host (test/core/session-decide).
test.each([
  ["host", "on_error=host"],
  ["default", "on_error=default, but the catalogue lists no usable `default`"],
])("on_error=%s: alice's task on n2 runs on the host, n1's in her tree, the fault logged", async (onError, reason) => {
  cluster.setSpankArgs([...site.moduleArgs(), `on_error=${onError}`]);
  const mark = site.ns.syslogMark();
  const r = cluster.run("alice", ["srun", "-N2", "sh", "-c", WHERE]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(r.stdout.trim().split("\n").sort()).toEqual([`n1 trixie ${PRETTY.trixie}`, `n2  ${PRETTY.host}`]);
  const line = await factsLine(mark);
  expect(line).toMatch(
    new RegExp(
      `spank_chos: user="uid \\d+" env=\\(host\\) requested=- reason="${reason}" .*failed=facts on_error=${onError} error="uid \\d+ has no passwd entry" job=\\d+ step=0$`,
    ),
  );
});

test("on_error=deny: the step fails, n2's task saying why on the job's stderr", async () => {
  cluster.setSpankArgs([...site.moduleArgs(), "on_error=deny"]);
  const r = cluster.run("alice", ["srun", "-N2", "sh", "-c", WHERE]);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain("chos: step refused: on_error=deny\n");
  expect(r.stdout).not.toContain("n2 ");
});
