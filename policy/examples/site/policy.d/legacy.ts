// Legacy codes need the old minimal userland, which has no GPU drivers: refuse GPU nodes, and
// Slurm steps in the gpu partition, rather than start a session that cannot run the job.
import { type Decision, deny, hostMatches, inPartition, type LoginContext, use } from "chos-policy/sdk";

export default function legacy(ctx: LoginContext): Decision {
  if (hostMatches(ctx, "gpu*")) return deny("the legacy tree has no GPU drivers: use a cpu node");
  if (inPartition(ctx, "gpu")) return deny("the legacy tree has no GPU drivers: use the batch partition");
  return use("tiny", "legacy codes need the minimal userland");
}
