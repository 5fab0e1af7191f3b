// The DKMS tree the build writes (dist/dkms) builds chos.ko for each kernel of VM_KERNELS, with
// that kernel's headers and compiler, as `dkms install` would on a cluster node (test/vm/dkms-build:
// private dkms trees, nothing registered on this machine). No VM is booted.
import { spawnSync } from "node:child_process";
import { VERSION } from "../system/lib/version";
import { repoRoot, VM_KERNELS } from "./lib/vm";

describe.each(VM_KERNELS)("%s: DKMS", (kernel) => {
  test("dkms build makes chos.ko of package.json's version", () => {
    const result = spawnSync("test/vm/dkms-build", [kernel], { cwd: repoRoot, encoding: "utf8" });
    // stderr shown only when the build failed: it carries dkms's and make's logs then.
    expect({ status: result.status, stdout: result.stdout, stderr: result.status ? result.stderr : "" }).toEqual({
      status: 0,
      stdout: `${VERSION}\n`,
      stderr: "",
    });
  }, 300_000);
});
