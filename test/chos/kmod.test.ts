// The kmod backend (pam/core/kmod_backend.c) for real: test/chos/vm/kmod-backend.sh runs in
// Debian 12's kernel under QEMU with chos.ko loaded (test/vm/run), driving the chos command
// (root and unprivileged, from the host view and inside a session's view) and pam_chos with
// backend=kmod through pamtester. Each check prints CHOS-CHECK NAME ok|fail.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPolicy, REPO } from './lib/fixture';

const CHECKS = ['setup', 'root-run', 'user-run', 'switch-in-session', 'refused', 'invisible', 'no-chosfs-in-root', 'pam-kmod'];

let output = '';
let status: number | null = null;

beforeAll(() => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chos-kmod-'));
  try {
    // test/vm/run copies extra files under their base names: /mnt/chos/chos-vm-policy in the VM.
    const policy = path.join(tmp, 'chos-vm-policy');
    fs.mkdirSync(policy);
    buildPolicy(policy);
    const r = spawnSync(path.join(REPO, 'test/vm/run'), [path.join(REPO, 'test/chos/vm/kmod-backend.sh'), policy], {
      encoding: 'utf8',
      timeout: 900_000,
    });
    output = `${r.stdout}\n${r.stderr}`;
    status = r.status;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, 900_000);

test('the VM run completes and the kernel reports no problems', () => {
  expect(output).toContain('dmesg problems: 0');
  expect(status).toBe(0);
});

test.each(CHECKS)('kmod backend: %s', (name) => {
  const line = output.split('\n').find((l) => l.startsWith(`CHOS-CHECK ${name} `));
  if (line !== `CHOS-CHECK ${name} ok`) {
    // Show the check's own output on failure.
    const start = output.indexOf(`--- ${name}\n`);
    throw new Error(`${line ?? `CHOS-CHECK ${name} missing`}\n${start >= 0 ? output.slice(start, output.indexOf('CHOS-CHECK', start)) : output.slice(-3000)}`);
  }
});
