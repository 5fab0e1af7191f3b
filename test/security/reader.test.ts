// The ~/.chos reader against an unprivileged attacker (test/vm/progs/racer.c): while pamtester
// sessions read alice's ~/.chos, alice spins on the pids just allocated, trying to open
// /proc/PID/mem read-write and to SIGSTOP every task of the login. The reader shares the root
// process's memory, so either would be a hole (root's memory read and rewritten; a login hung
// forever). Here on the host's kernel; test/vm/reader-race.test.ts runs the same racer for 60 s
// in Debian 12's 6.1 against pamtester and runuser -l.
import { execFileSync, spawn } from "node:child_process";
import * as path from "node:path";
import { pamtesterAsync } from "../system/lib/pam";
import { REPO } from "../system/lib/site";
import { pamSuite } from "../system/lib/suite";
import { PRETTY } from "../system/lib/trees";
import { writeChosFile } from "../system/lib/users";

const suite = pamSuite(["alice"]);
const PROGS = path.join(REPO, "build", "vm-progs");
const SECONDS = 10;

function runRacer(seconds: number): Promise<{ status: number | null; output: string }> {
  execFileSync("make", ["-s", "-C", path.join(REPO, "test/vm/progs"), `OUT=${PROGS}`]);
  return new Promise((resolve, reject) => {
    const child = spawn(
      "setpriv",
      [
        "--reuid=alice",
        "--regid=physics",
        "--init-groups",
        path.join(PROGS, "racer"),
        String(seconds),
        "stop",
        "pamtester",
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output }));
  });
}

test(`an unprivileged racer neither opens /proc/PID/mem of nor stops a login reading ~/.chos (${SECONDS} s of pamtester sessions)`, async () => {
  writeChosFile("alice", "tiny\n");
  const service = suite.service(suite.site.moduleArgs());
  const racer = runRacer(SECONDS);
  const deadline = Date.now() + SECONDS * 1000;
  let sessions = 0;
  while (Date.now() < deadline) {
    // A stopped reader would hang the session: the timeout turns that into a failure.
    const r = await pamtesterAsync(suite.site, service, "alice", { timeoutMs: 10_000 });
    expect({ status: r.status, pretty: r.pretty }).toEqual({ status: 0, pretty: PRETTY.tiny });
    sessions++;
  }
  const { status, output } = await racer;
  expect(sessions).toBeGreaterThan(10);
  expect(output).toMatch(/racer: readers-seen [1-9]\d* attempts \d+ wins 0\n/);
  expect(status).toBe(0);
}, 120_000);
