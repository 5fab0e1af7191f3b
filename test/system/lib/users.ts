// The test users and groups every system tier shares (pam, ssh, su, the chos command, the demo).
// They are real NSS accounts (useradd/groupadd), created on first use and removed when the last
// holder releases them, so two test files or a test and the demo never pull them from each
// other. Holders are pid files under HOLDERS; a holder whose process died is ignored.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

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
export const TEST_SHELL = '/bin/sh';

export const TEST_USERS: readonly TestUser[] = [
  { name: 'alice', group: 'physics', extraGroups: [], home: '/home/alice' },
  { name: 'bob', group: 'chemistry', extraGroups: [], home: '/home/bob' },
  { name: 'carol', group: 'legacy', extraGroups: [], home: '/home/carol' },
  // As in policy/examples/site/cases.json: an admin who is also in physics.
  { name: 'dave', group: 'admins', extraGroups: ['physics'], home: '/home/dave' },
  { name: 'erin', group: null, extraGroups: [], home: '/home/erin' },
];

const HOLDERS = '/run/chos-test-users';
/** Marks accounts this helper made, so it never removes an account someone else owns. */
const COMMENT = 'chos test user';

export function testUser(name: string): TestUser {
  const user = TEST_USERS.find((u) => u.name === name);
  if (!user) throw new Error(`no test user named ${name}`);
  return user;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function exists(db: 'passwd' | 'group', name: string): boolean {
  try {
    run('getent', [db, name]);
    return true;
  } catch {
    return false;
  }
}

function liveHolders(): string[] {
  if (!fs.existsSync(HOLDERS)) return [];
  return fs.readdirSync(HOLDERS).filter((pid) => {
    try {
      process.kill(Number(pid), 0);
      return true;
    } catch {
      fs.rmSync(path.join(HOLDERS, pid), { force: true });
      return false;
    }
  });
}

function create(): void {
  for (const u of TEST_USERS) {
    if (u.group && !exists('group', u.group)) run('groupadd', [u.group]);
    if (exists('passwd', u.name)) continue;
    const group = u.group ? ['-g', u.group] : ['-U'];
    const extra = u.extraGroups.length ? ['-G', u.extraGroups.join(',')] : [];
    run('useradd', ['-m', '-d', u.home, '-s', TEST_SHELL, '-c', COMMENT, ...group, ...extra, u.name]);
  }
}

function remove(): void {
  for (const u of TEST_USERS) {
    if (exists('passwd', u.name) && run('getent', ['passwd', u.name]).split(':')[4] === COMMENT) {
      run('userdel', ['-r', '-f', u.name]);
    }
    if (u.group && exists('group', u.group)) run('groupdel', [u.group]);
  }
}

/** Creates the test users (when missing) and returns the function that releases them. */
export function acquireTestUsers(): () => void {
  fs.mkdirSync(HOLDERS, { recursive: true });
  const mine = path.join(HOLDERS, String(process.pid));
  fs.writeFileSync(mine, '');
  create();
  return () => {
    fs.rmSync(mine, { force: true });
    if (liveHolders().length === 0) remove();
  };
}
