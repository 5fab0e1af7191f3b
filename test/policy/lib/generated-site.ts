// A generated site policy of any number of group files, for the scale tests and bench:policy:
// group files of several kinds (a host table and rules, no opinion, a shared lib/ helper, a
// request honoured, a throw, a bad shape) so that per-group and whole evaluation are compared
// on every path, and a lib/ module every kind-2 group imports.
import fs from "node:fs";
import path from "node:path";

/** The group name of file i: g00000, g00001, ... (sorted as numbered). */
export function groupName(i: number): string {
  return `g${String(i).padStart(5, "0")}`;
}

/** Which kinds of group file a generated site has, by i % KINDS. */
export const KINDS = 6;

// Each kind: what group i's file does, about 300-500 bytes of bundle like a real one.
function groupFile(i: number): string {
  const hosts = Array.from({ length: 4 }, (_, k) => `"n${i}-${k}*"`).join(", ");
  const sdk = `import { deny, hostMatches, honourRequest, use, type Decision, type LoginContext } from "chos-policy/sdk";\n`;
  switch (i % KINDS) {
    case 0:
      return `${sdk}const HOSTS = [${hosts}];
export default function group${i}(ctx: LoginContext): Decision {
  if (ctx.service === "su" && ctx.user.uid < ${1000 + i}) return deny("group ${i}: su is not for system accounts");
  if (hostMatches(ctx, ...HOSTS)) return use("tiny", "group ${i} runs on its own nodes with tiny");
  return honourRequest(ctx, ["trixie", "tiny"]) ?? use("trixie", "group ${i} default");
}
`;
    case 1:
      return `export default () => null;\n`;
    case 2:
      return `import type { LoginContext } from "chos-policy/sdk";
import { placement } from "../lib/placement";
export default (ctx: LoginContext) => placement(ctx, ${i});
`;
    case 3:
      return `${sdk}export default (ctx: LoginContext): Decision => honourRequest(ctx, ["tiny"]);\n`;
    case 4:
      return `import type { LoginContext } from "chos-policy/sdk";
export default (ctx: LoginContext) => {
  if (ctx.host.name.startsWith("gpu")) throw new Error("group ${i} has no gpu rule");
  return null;
};
`;
    default:
      return `${sdk}export default (ctx: LoginContext) => (ctx.requested?.env === "tiny" ? use(42 as unknown as string) : null);\n`;
  }
}

const LIB = `import { use, type Decision, type LoginContext } from "chos-policy/sdk";
// Shared by every kind-2 group file: one module in the base unit, not a copy per group.
export const EVEN = "trixie";
export function placement(ctx: LoginContext, group: number): Decision {
  if (ctx.host.name.startsWith("build")) return null;
  return use(group % 4 === 0 ? EVEN : "tiny", \`placed by lib for group \${group}\`);
}
`;

/** Writes the site (index.ts, lib/placement.ts, policy.d/*.ts, chos.conf) into dir. */
export function writeGeneratedSite(dir: string, groups: number): void {
  fs.mkdirSync(path.join(dir, "policy.d"), { recursive: true });
  fs.mkdirSync(path.join(dir, "lib"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "index.ts"),
    `import { hostMatches, use, type Decision, type LoginContext } from "chos-policy/sdk";
export default (ctx: LoginContext): Decision => (hostMatches(ctx, "build*") ? use("trixie", "build node") : null);
`,
  );
  fs.writeFileSync(path.join(dir, "lib", "placement.ts"), LIB);
  for (let i = 0; i < groups; i++) fs.writeFileSync(path.join(dir, "policy.d", `${groupName(i)}.ts`), groupFile(i));
  fs.writeFileSync(path.join(dir, "chos.conf"), "%SHELLS\ntrixie:/srv/trixie\ntiny:/srv/tiny\ndefault:/srv/trixie\n");
}
