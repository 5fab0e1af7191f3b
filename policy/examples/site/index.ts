// The site entry of the example policy: rules that hold for everyone, before any group file.
// Returning nothing (no opinion) hands the login to the group files, then to the user's
// request, then to the catalogue's `default`.
import { type Decision, hostMatches, type LoginContext, use } from "chos-policy/sdk";

export default function site(ctx: LoginContext): Decision {
  // The build nodes compile the site software for the current release: everybody gets it there.
  if (hostMatches(ctx, "build[0-9]*")) return use("trixie", "build nodes run the current release");
  return null;
}
