// su through pam_chos: `su - user -c ...` reads the su-l PAM service, so the test's copy of it
// (Debian's su-l plus a pam_chos session line) is bound over /etc/pam.d/su-l inside the test's
// mount namespace only; the host's su is never touched.
import * as fs from "node:fs";
import * as path from "node:path";
import { prettyName } from "./lib/pam";
import { PAM_CHOS, TestSite, TREES_TIMEOUT_MS } from "./lib/site";
import { PRETTY } from "./lib/trees";
import { acquireTestUsers } from "./lib/users";

let site: TestSite;
let releaseUsers: () => void;

beforeAll(async () => {
  releaseUsers = acquireTestUsers();
  site = await TestSite.create();
  const copy = path.join(site.dir, "su-l");
  const stock = fs.readFileSync("/etc/pam.d/su-l", "utf8");
  fs.writeFileSync(copy, `${stock}\nsession requisite ${PAM_CHOS} ${site.moduleArgs().join(" ")}\n`);
  const r = site.ns.run(["mount", "--bind", copy, "/etc/pam.d/su-l"]);
  if (r.status !== 0) throw new Error(`binding the su-l copy failed: ${r.stderr}`);
}, TREES_TIMEOUT_MS);

afterAll(() => {
  site?.close();
  releaseUsers?.();
});

test.each([
  ["alice", PRETTY.trixie, "trixie"],
  ["bob", PRETTY.tiny, "tiny"],
])("su - %s -c lands in %s with $CHOS=%s and the home as cwd", (user, pretty, chos) => {
  const r = site.ns.run(["su", "-", user, "-c", 'echo "CHOS=$CHOS pwd=$(pwd)"; cat /etc/os-release']);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(r.stdout.split("\n")[0]).toBe(`CHOS=${chos} pwd=/home/${user}`);
  expect(prettyName(r.stdout)).toBe(pretty);
});

test("su - root stays on the host (no allow_root)", () => {
  const r = site.ns.run(["su", "-", "root", "-c", "cat /etc/os-release"]);
  expect(r.status).toBe(0);
  expect(prettyName(r.stdout)).toBe(PRETTY.host);
});
