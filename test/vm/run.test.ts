// The harness itself: test/vm/run boots the VM, runs any script as root, streams what it prints
// and returns its exit status.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runVm, VM_KERNELS } from "./lib/vm";

// What `uname -r` says in each kernel test/vm/kernel boots.
const RELEASE: Record<string, RegExp> = {
  bookworm: /^6\.1\.\S+-amd64$/,
  trixie: /^6\.12\.\S+-amd64$/,
  "trixie-rt": /^6\.12\.\S+-rt-amd64$/,
  "trixie-backports": /^([7-9]|\d{2,})\.\d+\.\S+-amd64$/,
};

test.each(VM_KERNELS)(
  "run returns the in-VM script exit status and its output, as root in %s",
  async (kernel) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chos-vm-run-"));
    try {
      const script = path.join(dir, "status.sh");
      const extra = path.join(dir, "extra.txt");
      fs.writeFileSync(script, 'echo "uid=$(id -u) kernel=$(uname -r)"; cat /mnt/chos/extra.txt; exit 7\n');
      fs.writeFileSync(extra, "extra file arrived\n");
      const result = await runVm(script, [extra], 240, kernel);
      expect(result.status).toBe(7);
      const release = /^uid=0 kernel=(\S+)$/m.exec(result.output)?.[1];
      expect(release).toMatch(RELEASE[kernel]);
      expect(result.output).toContain("extra file arrived\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  300_000,
);
