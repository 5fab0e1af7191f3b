// Admins may go anywhere the catalogue lists; without a request they have no opinion here, so
// the catalogue's default applies.
import { type Decision, honourRequest, type LoginContext } from "chos-policy/sdk";

export default function admins(ctx: LoginContext): Decision {
  return honourRequest(ctx);
}
