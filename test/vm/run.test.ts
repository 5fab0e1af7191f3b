// The harness itself: test/vm/run boots the VM, runs any script as root, streams what it prints
// and returns its exit status.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runVm } from './lib/vm';

test('run returns the in-VM script exit status and its output, as root in the Debian kernel', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chos-vm-run-'));
  try {
    const script = path.join(dir, 'status.sh');
    const extra = path.join(dir, 'extra.txt');
    fs.writeFileSync(script, 'echo "uid=$(id -u) kernel=$(uname -r)"; cat /mnt/chos/extra.txt; exit 7\n');
    fs.writeFileSync(extra, 'extra file arrived\n');
    const result = await runVm(script, [extra], 240);
    expect(result.status).toBe(7);
    expect(result.output).toMatch(/^uid=0 kernel=6\.1\.\S+-amd64$/m);
    expect(result.output).toContain('extra file arrived\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);
