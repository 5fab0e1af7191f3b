// The built pam_chos.so as a shared object: only the PAM entry points leave it (the core and
// QuickJS are static and hidden), every symbol it needs resolves, and pam_chos(8) documents
// exactly the arguments its parser (pam/core/session_args.c) accepts.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PAM_CHOS, REPO } from "./lib/site";

const MAN = path.join(REPO, "pam/man/pam_chos.8");

test("exports only pam_sm_* symbols", () => {
  const out = execFileSync("nm", ["-D", "--defined-only", PAM_CHOS], { encoding: "utf8" });
  const names = out
    .trim()
    .split("\n")
    .map((l) => l.split(" ").pop());
  expect(names.sort()).toEqual([
    "pam_sm_acct_mgmt",
    "pam_sm_authenticate",
    "pam_sm_chauthtok",
    "pam_sm_close_session",
    "pam_sm_open_session",
    "pam_sm_setcred",
  ]);
});

test.each(["pam_chos.so", "spank_chos_step.so"])(
  "%s stays mapped once loaded (NODELETE): a session's helper thread may outlive its dlclose",
  (object) => {
    const out = execFileSync("readelf", ["-d", path.join(path.dirname(PAM_CHOS), object)], { encoding: "utf8" });
    expect(out).toMatch(/\(FLAGS_1\)\s+Flags:.*\bNODELETE\b/);
  },
);

test("loads with every symbol resolved (ldd -r), against libpam", () => {
  const out = execFileSync("ldd", ["-r", PAM_CHOS], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  expect(out).not.toMatch(/undefined symbol|not found/);
  expect(out).toMatch(/libpam\.so\.0 =>/);
});

test("pam_chos(8) documents exactly the arguments the module parses", () => {
  const source = fs.readFileSync(path.join(REPO, "pam/core/session_args.c"), "utf8");
  const parsed = [
    ...[...source.matchAll(/value_of\(arg, "([a-z_]+)"\)/g)].map((m) => m[1]),
    ...[...source.matchAll(/!strcmp\(arg, "([a-z_]+)"\)/g)].map((m) => m[1]),
  ].sort();
  expect(parsed.length).toBeGreaterThan(5);
  const man = fs.readFileSync(MAN, "utf8");
  const options = man.slice(man.indexOf(".SH OPTIONS"), man.indexOf(".SH OUTCOMES"));
  const documented = [...options.matchAll(/^\.TP\n\.BI? ([a-z_]+)/gm)].map((m) => m[1]).sort();
  expect(documented).toEqual(parsed);
});

test("pam_chos(8) renders without groff warnings", () => {
  const r = spawnSync("groff", ["-man", "-Tutf8", "-z", "-ww", MAN], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
});
