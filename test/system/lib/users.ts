// The test users and groups every system tier shares (pam, ssh, su, the chos command, the demo).
// They are real NSS accounts (useradd/groupadd), created on first use and removed when the last
// holder releases them, so two test files running at once never pull them from each other.
// Holders are files PID.N under HOLDERS (a holder whose process died is ignored); creating,
// counting and removing happen under one lock (a directory, so mkdir is the atomic test).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface TestUser {
  /** Login name. */
  readonly name: string;
  /** Site group (the user's primary group), or null for a user in no site group. */
  readonly group: string | null;
  /** Further site groups (supplementary), after the primary one. */
  readonly extraGroups: readonly string[];
  /** Home directory on the host, visible in every tree through /chos/home. */
  readonly home: string;
}

/** The login shell every test user gets: it exists on the host and in every test tree. */
export const TEST_SHELL = "/bin/sh";

export const TEST_USERS: readonly TestUser[] = [
  { name: "alice", group: "physics", extraGroups: [], home: "/home/alice" },
  { name: "bob", group: "chemistry", extraGroups: [], home: "/home/bob" },
  { name: "carol", group: "legacy", extraGroups: [], home: "/home/carol" },
  // As in policy/examples/site/cases.json: an admin who is also in physics.
  { name: "dave", group: "admins", extraGroups: ["physics"], home: "/home/dave" },
  { name: "erin", group: null, extraGroups: [], home: "/home/erin" },
];

const HOLDERS = "/run/chos-test-users";
const LOCK = "/run/chos-test-users.lock";
/** A stale lock (its owner died) is broken; a live one is waited for at most this long. */
const LOCK_WAIT_MS = 60_000;
let acquisitions = 0;
/** Marks accounts this helper made, so it never removes an account someone else owns. */
const COMMENT = "chos test user";

export function testUser(name: string): TestUser {
  const user = TEST_USERS.find((u) => u.name === name);
  if (!user) throw new Error(`no test user named ${name}`);
  return user;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function exists(db: "passwd" | "group", name: string): boolean {
  try {
    run("getent", [db, name]);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withLock<T>(fn: () => T): T {
  for (let waited = 0; ; waited += 50) {
    try {
      fs.mkdirSync(LOCK);
      fs.writeFileSync(path.join(LOCK, "pid"), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let owner = 0;
      try {
        owner = Number(fs.readFileSync(path.join(LOCK, "pid"), "utf8"));
      } catch {
        // just created, pid not written yet: wait
      }
      if (owner > 0 && !alive(owner)) fs.rmSync(LOCK, { recursive: true, force: true });
      else if (waited > LOCK_WAIT_MS) throw new Error(`${LOCK} held by pid ${owner} for over a minute`);
      else sleepSync(50);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

function liveHolders(): string[] {
  if (!fs.existsSync(HOLDERS)) return [];
  return fs.readdirSync(HOLDERS).filter((name) => {
    if (alive(Number(name.split(".")[0]))) return true;
    fs.rmSync(path.join(HOLDERS, name), { force: true });
    return false;
  });
}

function create(): void {
  for (const u of TEST_USERS) {
    if (u.group && !exists("group", u.group)) run("groupadd", [u.group]);
    if (exists("passwd", u.name)) continue;
    const group = u.group ? ["-g", u.group] : ["-U"];
    const extra = u.extraGroups.length ? ["-G", u.extraGroups.join(",")] : [];
    run("useradd", ["-m", "-d", u.home, "-s", TEST_SHELL, "-c", COMMENT, ...group, ...extra, u.name]);
  }
}

function remove(): void {
  for (const u of TEST_USERS) {
    if (exists("passwd", u.name) && run("getent", ["passwd", u.name]).split(":")[4] === COMMENT) {
      run("userdel", ["-r", "-f", u.name]);
    }
    if (u.group && exists("group", u.group)) run("groupdel", [u.group]);
  }
}

/** Creates the test users (when missing) and returns the function that releases them. */
export function acquireTestUsers(): () => void {
  const mine = path.join(HOLDERS, `${process.pid}.${acquisitions++}`);
  withLock(() => {
    fs.mkdirSync(HOLDERS, { recursive: true });
    fs.writeFileSync(mine, "");
    create();
  });
  return () =>
    withLock(() => {
      fs.rmSync(mine, { force: true });
      if (liveHolders().length === 0) remove();
    });
}

/** Replaces USER's ~/.chos with what MAKE creates (or with CONTENT), owned by the user as a
 * file of theirs would be (lchown: a symlink stays the user's too). Returns its path. */
export function writeChosFile(user: string, make: string | Buffer | ((file: string) => void)): string {
  const u = testUser(user);
  const file = path.join(u.home, ".chos");
  fs.rmSync(file, { force: true, recursive: true });
  if (typeof make === "function") make(file);
  else fs.writeFileSync(file, make);
  const { uid, gid } = fs.statSync(u.home);
  fs.lchownSync(file, uid, gid);
  return file;
}

/** Removes the ~/.chos of each of USERS (a test's leftovers). */
export function removeChosFiles(users: readonly string[]): void {
  for (const u of users) fs.rmSync(path.join(testUser(u).home, ".chos"), { force: true, recursive: true });
}
