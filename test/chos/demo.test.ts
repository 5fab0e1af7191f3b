// README command 1, end to end: `scripts/demo --no-build` (CI has just built everything, and
// `npm ci` would pull node_modules from under jest) must print the table of logins the example
// policy implies (the ssh logins and the batch job), and leave nothing behind: no users, PAM
// service, sshd, Slurm daemon, /dev/log or mounts.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO } from "./lib/fixture";

const TRIXIE = "Debian GNU/Linux 13 (trixie)";
const TINY = "chos tiny (busybox)";

function exists(db: string, name: string): boolean {
  return spawnSync("getent", [db, name]).status === 0;
}

test("the demo prints who landed where and why, then removes everything it made", () => {
  const mountsBefore = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").length;
  const usersBefore = ["alice", "bob", "carol", "dave", "erin"].filter((u) => exists("passwd", u));
  const r = spawnSync("bash", [path.join(REPO, "scripts/demo"), "--no-build"], { encoding: "utf8", timeout: 600_000 });
  expect(r.stderr).not.toMatch(/FAILED|no pam_chos line/);
  const rows = r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split(/ {2,}/));
  expect(rows[0]).toEqual(["USER", "GROUPS", "REQUESTED", "CHOSEN", "WHY", "PRETTY_NAME"]);
  expect(rows.slice(1).map((row) => [row[0], row[2], row[3], row[4], row[5]])).toEqual([
    ["alice", "-", "trixie", "group:physics: physics codes are built for trixie", TRIXIE],
    ["alice", "~/.chos=tiny", "tiny", "group:physics: requested in ~/.chos", TINY],
    ["bob", "~/.chos=trixie", "tiny", "group:chemistry: the certified solver runs on tiny only", TINY],
    ["carol", "-", "tiny", "group:legacy: legacy codes need the minimal userland", TINY],
    ["dave", "~/.chos=tiny", "tiny", "group:admins: requested in ~/.chos", TINY],
    ["erin", "~/.chos=tiny", "tiny", "request: requested in ~/.chos", TINY],
    ["erin", "-", "default", "default: the catalogue's default", TRIXIE],
    ["alice", "sbatch --chos=tiny", "tiny", "group:physics: requested in --chos", TINY],
  ]);
  expect(r.status).toBe(0);

  // Everything it made is gone; users that existed before it are still there.
  expect(fs.existsSync("/run/chos-demo")).toBe(false);
  expect(fs.existsSync("/etc/pam.d/chos-demo-sshd")).toBe(false);
  expect(spawnSync("pgrep", ["-f", "chos-demo-sshd"]).status).toBe(1);
  expect(spawnSync("pgrep", ["-f", "/run/chos-demo/slurm"]).status).toBe(1);
  expect(["alice", "bob", "carol", "dave", "erin"].filter((u) => exists("passwd", u))).toEqual(usersBefore);
  expect(fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").length).toBe(mountsBefore);
}, 900_000); // the first run on a machine builds the trixie tree
