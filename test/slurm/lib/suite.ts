// The frame the Slurm suites share, as system/lib/suite.ts is the PAM suites': the test users
// held, one TestSite and one SlurmCluster started before all tests, the cluster stopped, the
// site closed and the users released after them. Call slurmSuite at a test file's top level (it
// registers jest hooks); started receives the site and the cluster once they run.
import { TestSite, TREES_TIMEOUT_MS } from "../../system/lib/site";
import { acquireTestUsers } from "../../system/lib/users";
import { type ClusterOptions, SlurmCluster } from "./cluster";

export function slurmSuite(opts: ClusterOptions, started: (site: TestSite, cluster: SlurmCluster) => void): void {
  let site: TestSite | undefined;
  let cluster: SlurmCluster | undefined;
  let releaseUsers: (() => void) | undefined;

  beforeAll(async () => {
    releaseUsers = acquireTestUsers();
    site = await TestSite.create();
    cluster = await SlurmCluster.start(site, opts);
    started(site, cluster);
  }, TREES_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
    site?.close();
    releaseUsers?.();
  });
}
