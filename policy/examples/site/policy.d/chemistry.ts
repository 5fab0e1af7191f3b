// Chemistry's licensed solver is certified on the small tree only: requests are not honoured.
import { use, type Decision, type LoginContext } from "chos-policy/sdk";

export default function chemistry(_ctx: LoginContext): Decision {
  return use("tiny", "the certified solver runs on tiny only");
}
