// Nothing leaks and nothing collides: the test namespace stands in for a systemd host (every
// mount shared, as on a systemd host), and its mount table must be byte-identical before and after 100
// logins, and the real host's mounts of the site's paths must not change. Then 200 pamtester sessions started at once all succeed
// and each lands in its own user's tree.
import * as fs from "node:fs";
import { pamtester, pamtesterAsync, prettyName, removeService, writeService } from "./lib/pam";
import { TestSite, TREES_TIMEOUT_MS } from "./lib/site";
import { TestSshd } from "./lib/sshd";
import { PRETTY } from "./lib/trees";
import { acquireTestUsers } from "./lib/users";

const USERS = ["alice", "bob", "carol", "dave", "erin"] as const;
const EXPECTED: Record<(typeof USERS)[number], string> = {
  alice: PRETTY.trixie,
  bob: PRETTY.tiny,
  carol: PRETTY.tiny,
  dave: PRETTY.trixie,
  erin: PRETTY.trixie,
};
let site: TestSite;
let sshd: TestSshd;
let service: string;
let releaseUsers: () => void;

beforeAll(async () => {
  releaseUsers = acquireTestUsers();
  site = await TestSite.create();
  sshd = await TestSshd.start(site, USERS, site.moduleArgs());
  service = writeService(site.moduleArgs());
}, TREES_TIMEOUT_MS);

afterAll(() => {
  if (service) removeService(service);
  sshd?.stop();
  site?.close();
  releaseUsers?.();
});

test("the test namespace has shared mounts, as a systemd host does (else the leak test proves nothing)", () => {
  const root = site.ns
    .mountinfo()
    .split("\n")
    .find((l) => l.split(" ")[4] === "/");
  expect(root).toMatch(/ shared:\d+/);
});

/** The real host's mounts of anything this site uses (other work on the machine may mount too). */
function hostMountsOfSite(): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l.includes(site.dir) || l.includes(site.trees.tiny) || l.includes(site.trees.trixie));
}

test("the mount tables are identical before and after 100 logins (90 pamtester, 10 ssh)", () => {
  const nsBefore = site.ns.mountinfo();
  const hostBefore = hostMountsOfSite();
  for (let i = 0; i < 90; i++) {
    const user = USERS[i % USERS.length];
    const r = pamtester(site, service, user);
    expect(r.status).toBe(0);
    expect(r.pretty).toBe(EXPECTED[user]);
  }
  for (let i = 0; i < 10; i++) {
    const user = USERS[i % USERS.length];
    const r = sshd.ssh(user, ["cat", "/etc/os-release"]);
    expect(r.status).toBe(0);
    expect(prettyName(r.stdout)).toBe(EXPECTED[user]);
  }
  expect(site.ns.mountinfo()).toBe(nsBefore);
  expect(hostMountsOfSite()).toEqual(hostBefore);
});

test("200 pamtester sessions started at once all succeed, each in its user's tree", async () => {
  const runs = await Promise.all(
    Array.from({ length: 200 }, (_, i) => {
      const user = USERS[i % USERS.length];
      return pamtesterAsync(site, service, user).then((r) => ({ user, r }));
    }),
  );
  const wrong = runs.filter(({ user, r }) => r.status !== 0 || r.pretty !== EXPECTED[user]);
  expect(wrong.map(({ user, r }) => `${user}: ${r.status} ${r.pretty} ${r.stderr}`)).toEqual([]);
});
