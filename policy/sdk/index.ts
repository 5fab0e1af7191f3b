// The SDK as admins import it: `import { use, deny, inGroup } from "chos-policy/sdk"`.
// The bundler resolves that specifier to this file (an esbuild alias) and `chos-policy check`
// does the same for tsc (a `paths` entry), so a policy directory needs no node_modules.
export type {
  Decision,
  DenyDecision,
  FaultName,
  LayerName,
  LoginContext,
  LoginHost,
  LoginRequest,
  LoginUser,
  PolicyFunction,
  RequestSource,
  SlurmJob,
  UseDecision,
} from "./contract";
export { requestSourceName } from "./contract";
export {
  deny,
  honourRequest,
  hostMatches,
  hostPattern,
  inGroup,
  inPartition,
  listed,
  requestedEnv,
  use,
} from "./helpers";
