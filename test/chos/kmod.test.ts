// The kmod backend (pam/core/kmod_backend.c) for real: test/chos/vm/kmod-backend.sh runs in
// Debian 12's kernel under QEMU with chos.ko loaded (test/vm/run), driving the chos command
// (root and unprivileged, from the host view and inside a session's view) and pam_chos with
// backend=kmod through pamtester. Each check prints CHOS-CHECK NAME ok|fail.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expectCheck, runVm, VmResult } from '../vm/lib/vm';
import { buildPolicy } from './lib/fixture';

const CHECKS = ['setup', 'root-run', 'user-run', 'switch-in-session', 'refused', 'invisible', 'no-chosfs-in-root', 'pam-kmod'];

let result: VmResult;

beforeAll(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chos-kmod-'));
  try {
    // test/vm/run copies extra files under their base names: /mnt/chos/chos-vm-policy in the VM.
    const policy = path.join(tmp, 'chos-vm-policy');
    fs.mkdirSync(policy);
    buildPolicy(policy);
    result = await runVm('test/chos/vm/kmod-backend.sh', [policy]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, 600_000);

test('the VM run completes and the kernel reports no problems', () => {
  expect(result.output).toContain('dmesg problems: 0');
  expect(result.status).toBe(0);
});

test.each(CHECKS)('kmod backend: %s', (name) => expectCheck(result, name));
