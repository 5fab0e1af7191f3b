// Chemistry's licensed solver is certified on the small tree only: requests are not honoured.
import { type Decision, type LoginContext, use } from "chos-policy/sdk";

export default function chemistry(_ctx: LoginContext): Decision {
  return use("tiny", "the certified solver runs on tiny only");
}
