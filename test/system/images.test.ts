// OS images as catalogue trees (pam/core/setup/setup_image.c, session.c), for each kind: `tiny` is
// a squashfs (.sqfs) or erofs (.erofs) image of the busybox tree, pinned by its digest, which
// `chos setup` loop-mounts read-only at ROOT/.chos-images/tiny@GEN (the name a symlink to it)
// inside the test namespace.
// pamtester sessions, ssh logins, Slurm steps, `chos run` and the served identity files work on it
// as on a directory; setup is idempotent and --check reports the image; a replaced image is
// mounted fresh while a running session keeps the old one, and one no longer listed is detached;
// untrusted, truncated, corrupt and wrongly pinned images are refused with their problem line,
// nothing mounted for them, and a session asking for one fails as on_error says; 100 sessions
// leave no mount or loop device behind.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { SlurmCluster } from "../slurm/lib/cluster";
import { pamtester, removeService, writeService } from "./lib/pam";
import { buildImage, CHOS, exampleCatalogue, TestSite, TREES_TIMEOUT_MS } from "./lib/site";
import { TestSshd } from "./lib/sshd";
import { PRETTY, prepareTrees } from "./lib/trees";
import { acquireTestUsers } from "./lib/users";

let releaseUsers: () => void;

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Loop devices backed by file (losetup -j), one line each. */
function loopsOf(file: string): string[] {
  return execFileSync("losetup", ["-j", file], { encoding: "utf8" }).split("\n").filter(Boolean);
}

/** Each kind of image, and how the suite breaks its superblock (refused before mounting). */
const kinds = [
  {
    suffix: ".sqfs",
    filesystem: "squashfs",
    breakSuperblock: (b: Buffer) => b.writeUInt16LE(99, 28), // the major version
    corruptLine: /: squashfs 99\.0, not 4\.0/,
  },
  {
    suffix: ".erofs",
    filesystem: "erofs",
    breakSuperblock: (b: Buffer) => b.writeUInt8(13, 1024 + 12), // the block size's bits
    corruptLine: /: block size 2\^13, not the 4096 bytes Linux 6\.1 reads \(corrupt image\)/,
  },
];

beforeAll(() => {
  releaseUsers = acquireTestUsers();
});

afterAll(() => releaseUsers?.());

describe.each(kinds)("$filesystem images ($suffix)", ({ suffix, filesystem, breakSuperblock, corruptLine }) => {
  let site: TestSite;
  let dir: string;
  let service: string;
  const image = (name: string): string => path.join(dir, `${name}${suffix}`);
  const escaped = suffix.replace(".", "\\.");
  /** Where setup mounts the image file of entry name: a generation of it, named by its digest. */
  const generation = (name: string, file = image(name)): string => `${name}@${sha256(file).slice(0, 16)}`;

  /** The mounts of this kind of image in the test namespace, as "MOUNT_POINT OPTIONS SOURCE". */
  function imageMounts(): string[] {
    return site.ns
      .mountinfo()
      .split("\n")
      .filter((l) => l.includes(` - ${filesystem} `))
      .map((l) => {
        const f = l.split(" ");
        const dash = f.indexOf("-");
        return `${f[4]} ${f[5]} ${f[dash + 2]}`;
      });
  }

  /** `chos run ENV -- sh -c SCRIPT` with the site's paths, as an argv for the namespace. */
  function chosRunArgv(env: string, script: string): string[] {
    return [
      CHOS,
      "run",
      "--catalogue",
      site.catalogue,
      "--policy",
      site.policy,
      "--root",
      site.root,
      env,
      "--",
      "sh",
      "-c",
      script,
    ];
  }

  /** chosRunArgv run as root inside the namespace. */
  function chosRun(env: string, script: string) {
    return site.ns.run(chosRunArgv(env, script));
  }

  beforeAll(async () => {
    // Under /var/lib, root's 0755: the images and the directories above them pass the trust rule.
    dir = fs.mkdtempSync("/var/lib/chos-images-");
    fs.chmodSync(dir, 0o755);
    const trees = prepareTrees(path.join(dir, "trees"));
    buildImage(trees.tiny, image("tiny"));
    // The refused ones: group-writable, cut short, a broken superblock, a pin of other bytes.
    fs.copyFileSync(image("tiny"), image("open"));
    fs.chmodSync(image("open"), 0o664);
    const bytes = fs.readFileSync(image("tiny"));
    fs.writeFileSync(image("truncated"), bytes.subarray(0, bytes.length / 2), { mode: 0o644 });
    const corrupt = Buffer.from(bytes);
    breakSuperblock(corrupt);
    fs.writeFileSync(image("corrupt"), corrupt, { mode: 0o644 });
    fs.copyFileSync(image("tiny"), image("wrongpin"));
    const catalogue = exampleCatalogue(trees).replace(
      `tiny:${trees.tiny}\n`,
      `tiny:${image("tiny")} sha256=${sha256(image("tiny"))}\n` +
        `open:${image("open")}\ntruncated:${image("truncated")}\ncorrupt:${image("corrupt")}\n` +
        `wrongpin:${image("wrongpin")} sha256=${"0".repeat(64)}\n`,
    );
    // Setup reports the refused images, so the site's first run exits 1: run it here instead.
    site = await TestSite.create({ catalogue: "%SHELLS\n" });
    fs.writeFileSync(site.catalogue, catalogue);
    site.setup();
    service = writeService(site.moduleArgs());
  }, TREES_TIMEOUT_MS);

  afterAll(() => {
    if (service) removeService(service);
    site?.close();
    // Every loop device went with the namespace's mounts (LO_FLAGS_AUTOCLEAR).
    const left = dir ? loopsOf(image("tiny")) : [];
    fs.rmSync(dir, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  describe("chos setup mounts the catalogue's images", () => {
    test("the pinned image is mounted read-only, nosuid, nodev from an autoclearing loop device", () => {
      const mounts = imageMounts();
      expect(mounts).toHaveLength(1);
      const [where, options, source] = mounts[0].split(" ");
      expect(where).toBe(path.join(site.root, ".chos-images", generation("tiny")));
      // The name leads to the generation sessions enter.
      expect(fs.readlinkSync(path.join(site.root, ".chos-images/tiny"))).toBe(generation("tiny"));
      expect(options.split(",")).toEqual(expect.arrayContaining(["ro", "nosuid", "nodev"]));
      const loop = path.basename(source);
      expect(fs.readFileSync(`/sys/block/${loop}/loop/autoclear`, "utf8").trim()).toBe("1");
      expect(fs.readFileSync(`/sys/block/${loop}/ro`, "utf8").trim()).toBe("1");
      expect(loopsOf(image("tiny"))).toHaveLength(1);
    });

    test("a second run mounts nothing again, and --check reports the image with its digest", () => {
      const again = site.setup();
      expect(again.stdout).not.toMatch(/done: mounted image/);
      const check = site.setup("--check");
      expect(check.stdout).toContain(
        `ok: image ${image("tiny")} of "tiny" (sha256 ${sha256(image("tiny"))}) is mounted at ${site.root}/.chos-images/${generation("tiny")}\n`,
      );
      expect(imageMounts()).toHaveLength(1);
      expect(loopsOf(image("tiny"))).toHaveLength(1);
    });

    test.each([
      ["open", new RegExp(`image of "open" is refused, not mounted: .*open${escaped}: writable by group, mode 0664`)],
      ["truncated", new RegExp(`image .*truncated${escaped} of "truncated" is refused, not mounted: .*truncated`)],
      [
        "corrupt",
        new RegExp(`image .*corrupt${escaped} of "corrupt" is refused, not mounted: .*${corruptLine.source}`),
      ],
      [
        "wrongpin",
        new RegExp(
          `image .*wrongpin${escaped} of "wrongpin" is refused, not mounted: its sha256 is [0-9a-f]{64}, the catalogue pins 0{64}`,
        ),
      ],
    ])("%s is refused with its problem line, and nothing is mounted for it", (name, line) => {
      const r = site.setup();
      expect(r.status).toBe(1);
      expect(r.stdout.split("\n").filter((l) => l.includes(`"${name}"`))).toEqual([expect.stringMatching(line)]);
      expect(imageMounts().filter((m) => m.includes(name))).toEqual([]);
      expect(loopsOf(image(name))).toEqual([]);
    });

    test("a login asking for a refused image fails at apply, as on_error says (host), with its log line", async () => {
      const mark = site.ns.syslogMark();
      const r = pamtester(site, service, "erin", { env: { CHOS: "corrupt" } });
      expect(r.status).toBe(0);
      expect(r.pretty).toBe(PRETTY.host);
      const log = await site.ns.syslogSince(mark, /user="erin"/);
      expect(log).toMatch(
        /user="erin" env=\(host\) requested=corrupt .*failed=apply on_error=host error="image of \\"corrupt\\" is not mounted at .*\.chos-images\/corrupt@: run `chos setup`/,
      );
    });
  });

  describe("sessions on an image", () => {
    test.each([
      ["outside the images", "../../../etc"],
      ["through its own generation", "/."],
      ["to no generation", "tiny@not-hex"],
    ])(
      "an image name leading %s is never followed: the login fails at apply, with its log line",
      async (_what, target) => {
        const name = path.join(site.root, ".chos-images/tiny");
        const good = fs.readlinkSync(name);
        fs.unlinkSync(name);
        fs.symlinkSync(target.startsWith("/") ? `${good}${target}` : target, name);
        try {
          const mark = site.ns.syslogMark();
          const r = pamtester(site, service, "bob");
          expect(r.status).toBe(0);
          expect(r.pretty).toBe(PRETTY.host);
          const log = await site.ns.syslogSince(mark, /user="bob"/);
          expect(log).toMatch(
            /failed=apply .*error="image of \\"tiny\\" is not mounted at .*\.chos-images\/tiny@: run `chos setup`/,
          );
        } finally {
          fs.unlinkSync(name);
          fs.symlinkSync(good, name);
        }
      },
    );

    test("pamtester: bob (chemistry gets tiny) lands in the image", () => {
      const r = pamtester(site, service, "bob");
      expect(r.status).toBe(0);
      expect(r.pretty).toBe(PRETTY.tiny);
    });

    test("ssh: bob's login over a real sshd lands in the image", async () => {
      const sshd = await TestSshd.start(site, ["bob"], site.moduleArgs());
      try {
        const r = sshd.ssh("bob", ["cat", "/etc/os-release"]);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`PRETTY_NAME="${PRETTY.tiny}"`);
      } finally {
        sshd.stop();
      }
    });

    test("Slurm: bob's srun -N2 step runs in the image on both nodes (spank_chos)", async () => {
      const cluster = await SlurmCluster.start(site);
      try {
        const r = cluster.run("bob", [
          "srun",
          "-N2",
          "sh",
          "-c",
          'echo "$SLURMD_NODENAME $(grep ^PRETTY_NAME= /etc/os-release)"',
        ]);
        expect(r.stderr).toBe("");
        expect(r.stdout.trim().split("\n").sort()).toEqual([
          `n1 PRETTY_NAME="${PRETTY.tiny}"`,
          `n2 PRETTY_NAME="${PRETTY.tiny}"`,
        ]);
      } finally {
        await cluster.stop();
      }
    }, 120_000);

    test("chos run tiny sees the image's tree and the host's identity files", () => {
      const r = chosRun("tiny", "cat /etc/os-release; grep -c '^bob:' /etc/passwd; touch /usr/x 2>&1");
      expect(r.stdout).toContain(`PRETTY_NAME="${PRETTY.tiny}"`);
      expect(r.stdout).toContain("\n1\n");
      expect(r.stdout).toMatch(/Read-only file system/);
    });

    test("an image replaced on disk is mounted fresh; a session started before keeps the old one", async () => {
      const v2 = path.join(dir, "tiny-v2");
      execFileSync("cp", ["-a", prepareTrees(path.join(dir, "trees")).tiny, v2]);
      fs.writeFileSync(path.join(v2, "etc/chos-marker"), "v2\n", { mode: 0o644 });
      const next = path.join(dir, `tiny-next${suffix}`);
      buildImage(v2, next);
      const oldMount = path.join(site.root, ".chos-images", generation("tiny"));
      const old = site.ns.runAsync(
        chosRunArgv("tiny", "echo started; sleep 3; cat /etc/chos-marker 2>/dev/null || echo old image"),
      );
      await new Promise((r) => setTimeout(r, 1000));
      // The pin follows the image: the catalogue names the new digest.
      const text = fs.readFileSync(site.catalogue, "utf8");
      fs.writeFileSync(site.catalogue, text.replace(sha256(image("tiny")), sha256(next)));
      fs.renameSync(next, image("tiny"));
      const r = site.setup();
      expect(r.stdout).toMatch(
        new RegExp(`done: mounted image .*tiny${escaped} of "tiny" \\(sha256 [0-9a-f]{64}, /dev/loop\\d+\\)`),
      );
      // A new generation: the name leads to it, and the old one is detached (the running
      // session holds its copy).
      expect(r.stdout).toContain(`done: detached image mount ${oldMount}: no listed image leads to it\n`);
      expect(fs.readlinkSync(path.join(site.root, ".chos-images/tiny"))).toBe(generation("tiny"));
      expect(fs.existsSync(oldMount)).toBe(false);
      expect(chosRun("tiny", "cat /etc/chos-marker").stdout).toBe("v2\n");
      const before = await old;
      expect(before.stdout).toBe("started\nold image\n");
      expect(imageMounts()).toHaveLength(1);
    });

    test("an image no longer listed is detached and its mount point removed; a session started before keeps it", async () => {
      const listed = fs.readFileSync(site.catalogue, "utf8");
      const mountPoint = path.join(site.root, ".chos-images", generation("spare", image("tiny")));
      const name = path.join(site.root, ".chos-images/spare");
      fs.writeFileSync(site.catalogue, `${listed}spare:${image("tiny")}\n`);
      try {
        expect(site.setup().stdout).toMatch(new RegExp(`done: mounted image .*tiny${escaped} of "spare"`));
        expect(imageMounts().map((m) => m.split(" ")[0])).toContain(mountPoint);
        const running = site.ns.runAsync(chosRunArgv("spare", "echo started; sleep 3; cat /etc/os-release"));
        await new Promise((r) => setTimeout(r, 1000));
        fs.writeFileSync(site.catalogue, listed);
        const r = site.setup();
        expect(r.stdout).toContain(`done: detached image mount ${mountPoint}: no listed image leads to it\n`);
        expect(r.stdout).toContain(`done: removed ${name}: "spare" is no longer listed\n`);
        expect(fs.existsSync(name)).toBe(false);
        expect(imageMounts().map((m) => m.split(" ")[0])).not.toContain(mountPoint);
        expect(fs.existsSync(mountPoint)).toBe(false);
        expect(site.setup("--check").stdout).not.toContain("spare");
        const before = await running;
        expect(before.stdout).toContain(`started\nPRETTY_NAME="${PRETTY.tiny}"`);
        // The session's end took the last mount of the detached image, and its loop device.
        expect(loopsOf(image("tiny"))).toHaveLength(1);
      } finally {
        fs.writeFileSync(site.catalogue, listed);
      }
    });

    test("100 sessions leave no mount and no loop device behind", () => {
      const mounts = site.ns.mountinfo().split("\n").length;
      const loops = execFileSync("losetup", ["-a"], { encoding: "utf8" });
      for (let i = 0; i < 100; i++) expect(pamtester(site, service, "bob").pretty).toBe(PRETTY.tiny);
      expect(site.ns.mountinfo().split("\n").length).toBe(mounts);
      expect(execFileSync("losetup", ["-a"], { encoding: "utf8" })).toBe(loops);
    });
  });
});
