// Physics builds its codes for trixie but tests them on the small tree too: members may ask
// for either (with $CHOS or ~/.chos); without a request they get trixie.
import { type Decision, honourRequest, type LoginContext, use } from "chos-policy/sdk";

export default function physics(ctx: LoginContext): Decision {
  return honourRequest(ctx, ["trixie", "tiny"]) ?? use("trixie", "physics codes are built for trixie");
}
