// `chos-policy check DIR [--catalogue FILE]`: type-check the policy against the SDK (errors at
// their .ts line, exit 1), then warn about environment names written in the policy that the
// catalogue does not list, and group files whose group does not exist on this host.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { readPolicyDir } from "../bundle/policy-dir";
import { parseArgs, positionals } from "./args";
import { defaultCatalogue, native } from "./engine";
import type { Output } from "./io";
import { envLiterals } from "./sites";
import { typeCheck } from "./typecheck";

export const CHECK_USAGE = [
  "check DIR [--catalogue FILE] [--trust-any-owner]",
  "type-check DIR; warn about unlisted environments and groups this host lacks",
];

function groupExists(group: string): boolean {
  try {
    execFileSync("getent", ["group", group], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export async function check(argv: readonly string[], io: Output): Promise<number> {
  const args = parseArgs("check", argv, { strings: ["catalogue"], booleans: ["trust-any-owner"] });
  const [dir] = positionals("check", args, ["DIR"]);
  const policy = readPolicyDir(dir);
  const errors = typeCheck(policy);
  for (const e of errors) io.err(e);

  const catalogue = path.resolve(args.strings.get("catalogue") ?? defaultCatalogue());
  let warnings = 0;
  if (!args.strings.has("catalogue") && !fs.existsSync(catalogue)) {
    io.err(`note: no catalogue at ${catalogue}: environment names not checked (give --catalogue FILE)`);
  } else {
    const listed = new Set(
      native()
        .parseCatalogue(catalogue, { trustAnyOwner: args.booleans.has("trust-any-owner") })
        .map((e) => e.name),
    );
    for (const lit of envLiterals(policy)) {
      if (listed.has(lit.name)) continue;
      warnings++;
      io.err(`${lit.file}:${lit.line}: warning: environment "${lit.name}" is not listed in ${catalogue}`);
    }
  }
  for (const g of policy.groups) {
    if (groupExists(g.group)) continue;
    warnings++;
    io.err(`${g.file}: warning: group "${g.group}" does not exist on this host: the file applies to nobody here`);
  }
  const summary = `${errors.length} error${errors.length === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`;
  io.out(`${policy.dir}: ${summary}`);
  return errors.length > 0 ? 1 : 0;
}
