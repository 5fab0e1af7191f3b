// ssh logins with the kmod backend inside Debian 12's kernel under QEMU: sshd on the VM's
// loopback with pam_chos backend=kmod, the example policy (policy/examples/site) built here
// with the real CLI, `chos setup` laying out /chos. Sequence: test/vm/suites/ssh.sh.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPolicy } from '../chos/lib/fixture';
import { expectCheck as expectVmCheck, runVm, VmResult } from './lib/vm';

let result: VmResult;
const expectCheck = (name: string): void => expectVmCheck(result, name);

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chos-vm-ssh-'));
  try {
    // run copies extra files under their base names: /mnt/chos/chos-vm-policy in the VM.
    const policy = path.join(dir, 'chos-vm-policy');
    fs.mkdirSync(policy);
    buildPolicy(policy);
    result = await runVm('test/vm/suites/ssh.sh', [policy]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);

test('the ssh suite ran to the end inside the VM with no kernel warnings', () => {
  expect(result.output).toContain('dmesg problems: 0\n');
  expect(result.status).toBe(0);
});
test('chos setup loads the module, mounts chosfs, lays out /chos, and --check passes', () =>
  expectCheck('setup-loads-module-check-passes'));
test('ssh users land in the tree their policy picks (alice trixie, bob tiny) with backend=kmod', () =>
  expectCheck('ssh-lands-in-policy-tree'));
test('two ssh sessions at once each stay in their own tree', () => expectCheck('ssh-concurrent-sessions'));
test('chos switches trees mid-session and /etc/os-release follows; the session shell stays', () =>
  expectCheck('ssh-chos-switches-mid-session'));
test('a switch the policy refuses mid-session fails and leaves the session in its tree', () =>
  expectCheck('ssh-switch-refused-by-policy'));
test('chos setup --check says the module is not loaded after rmmod', () =>
  expectCheck('setup-check-says-module-unloaded'));
