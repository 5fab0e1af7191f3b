// The kmod backend (pam/core/apply/kmod_backend.c) for real: test/chos/vm/kmod-backend.sh runs in
// each of VM_KERNELS under QEMU with chos.ko loaded (test/vm/run), driving the chos command
// (root and unprivileged, from the host view and inside a session's view) and pam_chos with
// backend=kmod through pamtester. Each check prints CHOS-CHECK NAME ok|fail.
import { describeEachKernel, expectCheck, runVmWithExamplePolicy } from "../vm/lib/vm";

const CHECKS = [
  "setup",
  "root-run",
  "user-run",
  "switch-in-session",
  "refused",
  "invisible",
  "no-chosfs-in-root",
  "pam-kmod",
];

describeEachKernel(
  "the kmod backend",
  (kernel) => runVmWithExamplePolicy("test/chos/vm/kmod-backend.sh", kernel),
  (result) => {
    test("the VM run completes and the kernel reports no problems", () => {
      expect(result().output).toContain("dmesg problems: 0");
      expect(result().status).toBe(0);
    });

    test.each(CHECKS)("kmod backend: %s", (name) => expectCheck(result(), name));
  },
);
