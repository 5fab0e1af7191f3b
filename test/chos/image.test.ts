// `chos image build` and `chos image check` (pam/cmd/image.c, pam/core/setup/image*.c) on the
// busybox test tree, as root, for each kind of image: a reproducible squashfs (zstd) or erofs
// (lz4) whose served files are empty stand-ins, with what is mounted below the tree, which the
// kernel mounts; and every refusal with its message: an untrusted tree or image, a truncated
// file, a corrupt superblock (field by field), checksum, table, inode or metadata block,
// trailing bytes, a wrong pinned digest, misuse, an erofs tree whose etc is a mount.
// Images live under /run (0755, root's): /tmp's mode 1777 fails the trust rule.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { prepareTrees } from "../system/lib/trees";
import { CHOS } from "./lib/fixture";

let dir: string;
let tiny: string;

function chos(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(CHOS, args, { encoding: "utf8" });
}

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** `find -printf` lines under root, keyed by the relative path: "MODE OWNER/GROUP SIZE DATE TIME". */
function findListing(root: string, mount?: string): Map<string, string> {
  const find = `find . -printf '%P\\t%M %u/%g %s %TY-%Tm-%Td %TH:%TM\\n'`;
  const script = mount
    ? `mkdir -p ${root} && mount -o loop,ro ${mount} ${root} && cd ${root} && ${find}`
    : `cd ${root} && ${find}`;
  const r = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`listing ${mount ?? root}: ${r.stderr}`);
  return new Map(
    r.stdout
      .split("\n")
      .filter((l) => l.includes("\t"))
      .map((l) => l.split("\t") as [string, string]),
  );
}

/** What the image shows once the kernel mounts it. */
function listing(file: string): Map<string, string> {
  return findListing(path.join(dir, `mnt-${path.basename(file)}`), file);
}

/** CRC32C as the kernel's crc32c(seed, ...): no inversion before or after. */
function crc32c(seed: number, data: Uint8Array): number {
  let crc = seed >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return crc >>> 0;
}

/** The format of each kind: how its superblock is read and damaged in these tests. */
interface Kind {
  readonly suffix: string;
  readonly filesystem: string;
  readonly compression: string;
  /** The tool whose output an image is, as messages name it. */
  readonly tool: string;
  /** Where the build time is, and the bytes of it that hold one before 2106. */
  readonly buildTime: [offset: number, bytes: number];
}

const kinds: Kind[] = [
  { suffix: ".sqfs", filesystem: "squashfs", compression: "zstd", tool: "mksquashfs", buildTime: [8, 4] },
  { suffix: ".erofs", filesystem: "erofs", compression: "lz4", tool: "mkfs.erofs", buildTime: [1024 + 24, 4] },
];

beforeAll(() => {
  const links = fs.mkdtempSync(path.join(os.tmpdir(), "chos-image-trees-"));
  tiny = prepareTrees(links).tiny;
  fs.rmSync(links, { recursive: true, force: true });
  dir = fs.mkdtempSync("/run/chos-image-");
  fs.chmodSync(dir, 0o755);
}, 900_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(kinds)("$filesystem ($suffix)", (kind) => {
  let image: string;
  const named = (name: string) => path.join(dir, `${name}${kind.suffix}`);

  /** A copy of the image with bytes changed at offset (each XORed with 0x5a). */
  function corrupt(name: string, offset: number, length: number): string {
    const data = fs.readFileSync(image);
    for (let i = 0; i < length; i++) data[offset + i] ^= 0x5a;
    const file = named(name);
    fs.writeFileSync(file, data, { mode: 0o644 });
    return file;
  }

  beforeAll(() => {
    image = named("tiny");
    const r = chos("image", "build", tiny, "-o", image);
    if (r.status !== 0) throw new Error(`chos image build failed: ${r.stderr}`);
  }, 300_000);

  describe("chos image build", () => {
    test("prints the image's size and the SHA-256 of its bytes, and leaves it 0644", () => {
      const r = chos("image", "build", tiny, "-o", named("again"));
      expect(r.status).toBe(0);
      const size = fs.statSync(image).size;
      expect(r.stdout).toBe(
        `${named("again")}: ${kind.filesystem} ${kind.compression}, ${r.stdout.match(/(\d+) inodes/)?.[1]} inodes, ${size} bytes, sha256 ${sha256(image)}\n`,
      );
      expect(fs.statSync(image).mode & 0o7777).toBe(0o644);
    });

    test("is reproducible: the same tree a second later gives the same bytes", () => {
      const again = named("later");
      spawnSync("sleep", ["1.1"]);
      expect(chos("image", "build", tiny, "-o", again).status).toBe(0);
      expect(sha256(again)).toBe(sha256(image));
    });

    test("leaves the served files out: each is an empty root-owned stand-in a bind can cover", () => {
      const entries = listing(image);
      for (const served of ["etc/passwd", "etc/group", "etc/shadow", "etc/hosts", "etc/localtime", "etc/chos"]) {
        expect(entries.get(served)).toBe("-rw-r--r-- root/root 0 1970-01-01 00:00");
      }
      expect(entries.get("etc/chos.d")).toMatch(/^drwxr-xr-x root\/root \d+ 1970-01-01 00:00$/);
      expect([...entries.keys()].filter((p) => p.startsWith("etc/chos.d/"))).toEqual([]);
      expect(entries.get("etc/os-release")).toMatch(/^-rw-r--r-- root\/root [1-9]/);
    });

    test("keeps everything else as the tree has it: each entry's mode, owner, size (files) and time", () => {
      const strip = (line: string | undefined) => line?.replace(/^(d\S+ \S+) \d+/, "$1");
      const tree = findListing(tiny);
      const entries = listing(image);
      const served =
        /^etc\/(passwd|group|shadow|gshadow|hosts|resolv\.conf|nsswitch\.conf|localtime|chos|chos\.d)(\/|$)/;
      for (const [entry, line] of tree)
        if (!served.test(entry)) expect([entry, strip(entries.get(entry))]).toEqual([entry, strip(line)]);
      expect([...entries.keys()].filter((p) => !tree.has(p) && !served.test(p))).toEqual([]);
    });

    test("stamps the stand-ins and the image with SOURCE_DATE_EPOCH when it is set", () => {
      const stamped = named("stamped");
      const r = spawnSync(CHOS, ["image", "build", tiny, "-o", stamped], {
        encoding: "utf8",
        env: { ...process.env, SOURCE_DATE_EPOCH: "1700000000" },
      });
      expect(r.status).toBe(0);
      expect(listing(stamped).get("etc/passwd")).toMatch(/ 2023-11-14 /);
      const [offset, bytes] = kind.buildTime;
      expect(fs.readFileSync(stamped).readUIntLE(offset, bytes)).toBe(1700000000);
    });

    test("makes an image the kernel mounts read-only, showing the tree", () => {
      const r = spawnSync(
        "unshare",
        [
          "--mount",
          "--propagation",
          "private",
          "sh",
          "-c",
          `mkdir -p ${dir}/mnt && mount -o loop,ro,nosuid,nodev ${image} ${dir}/mnt && stat -f -c %T ${dir}/mnt && cat ${dir}/mnt/etc/os-release && ! touch ${dir}/mnt/x`,
        ],
        { encoding: "utf8" },
      );
      expect(r.stderr).toContain("Read-only file system");
      expect(r.stdout).toBe(`${kind.filesystem}\n${fs.readFileSync(path.join(tiny, "etc/os-release"), "utf8")}`);
      expect(r.status).toBe(0);
    });

    test("packs what is mounted below the tree, as mksquashfs reads it; a mount on a served path stays covered", () => {
      const copy = path.join(dir, `submounts${kind.suffix}.d`);
      const out = named("submounts");
      const script = [
        `cp -a ${tiny} ${copy} && mkdir -p ${copy}/opt/data && touch ${copy}/opt/motd ${copy}/etc/hosts`,
        `printf 'bound\\n' > ${dir}/motd-${kind.filesystem} && echo 127.0.0.1 bound > ${dir}/hosts-${kind.filesystem}`,
        `mount -t tmpfs -o mode=0755 data ${copy}/opt/data && echo hello > ${copy}/opt/data/hello`,
        `mkdir ${copy}/opt/data/inner && mount -t tmpfs -o mode=0755 inner ${copy}/opt/data/inner`,
        `echo inside > ${copy}/opt/data/inner/file`,
        `mkdir '${copy}/opt/a b' && mount -t tmpfs -o mode=0755 spaced '${copy}/opt/a b' && touch '${copy}/opt/a b/c'`,
        `mount --bind ${dir}/motd-${kind.filesystem} ${copy}/opt/motd`,
        `mount --bind ${dir}/hosts-${kind.filesystem} ${copy}/etc/hosts`,
        `${CHOS} image build ${copy} -o ${out}`,
      ].join(" && ");
      const r = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-ec", script], {
        encoding: "utf8",
      });
      expect([r.status, r.stderr]).toEqual([0, ""]);
      const entries = listing(out);
      expect(entries.get("opt/data/hello")).toMatch(/^-rw-r--r-- root\/root 6 /);
      expect(entries.get("opt/data/inner/file")).toMatch(/^-rw-r--r-- root\/root 7 /);
      expect(entries.get("opt/motd")).toMatch(/^-rw-r--r-- root\/root 6 /);
      expect(entries.get("opt/a b/c")).toMatch(/^-rw-r--r-- root\/root 0 /);
      expect(entries.get("etc/hosts")).toBe("-rw-r--r-- root/root 0 1970-01-01 00:00");
    });

    test("a file hard-linked to a served path is packed under its own name; only the served path is left out", () => {
      const copy = path.join(dir, `hardlink${kind.suffix}.d`);
      const out = named("hardlink");
      expect(spawnSync("cp", ["-a", tiny, copy]).status).toBe(0);
      fs.writeFileSync(path.join(copy, "etc/hosts"), "127.0.0.1 linked\n", { mode: 0o644 });
      fs.linkSync(path.join(copy, "etc/hosts"), path.join(copy, "etc/hosts.keep"));
      expect(chos("image", "build", copy, "-o", out).status).toBe(0);
      const entries = listing(out);
      expect(entries.get("etc/hosts.keep")).toMatch(/^-rw-r--r-- root\/root 17 /);
      expect(entries.get("etc/hosts")).toMatch(/^-rw-r--r-- root\/root 0 /);
    });

    test("refuses a tree that fails the trust rule, and writes nothing", () => {
      const open = path.join(dir, `open-tree${kind.suffix}.d`);
      fs.mkdirSync(path.join(open, "etc"), { recursive: true });
      fs.chmodSync(open, 0o777);
      const out = named("open");
      const r = chos("image", "build", open, "-o", out);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`chos image: tree ${open}: writable by group and others, mode 0777 (not trusted)\n`);
      expect(fs.readdirSync(dir).filter((f) => f.startsWith(`open${kind.suffix}`))).toEqual([]);
    });

    test("misuse: relative paths, a missing -o, an unknown subcommand exit 2", () => {
      expect(chos("image", "build", "tree", "-o", image).status).toBe(2);
      expect(chos("image", "build", tiny, image).status).toBe(2);
      expect(chos("image", "pack", tiny).status).toBe(2);
      expect(chos("image", "check", `tiny${kind.suffix}`).stderr).toContain("paths must be absolute");
    });
  });

  describe("chos image check", () => {
    test("a good image: its line, then good; with its digest pinned, as pinned (either case)", () => {
      const r = chos("image", "check", image);
      expect(r.status).toBe(0);
      const [line, verdict, end] = r.stdout.split("\n");
      expect(line.startsWith(`${image}: ${kind.filesystem} ${kind.compression}, `)).toBe(true);
      expect(line.endsWith(` inodes, ${fs.statSync(image).size} bytes, sha256 ${sha256(image)}`)).toBe(true);
      expect([verdict, end]).toEqual([`${image}: good`, ""]);
      const pinned = chos("image", "check", image, "--sha256", sha256(image).toUpperCase());
      expect(pinned.stdout).toContain(`${image}: good, sha256 as pinned\n`);
      expect(pinned.status).toBe(0);
    });

    test("the fuzz_image seeds of this kind (pam/fuzz/corpus/image) are good images", () => {
      const corpus = path.join(__dirname, "..", "..", "pam", "fuzz", "corpus", "image");
      const seeds = fs.readdirSync(corpus).filter((f) => f.endsWith(kind.suffix));
      expect(seeds.length).toBeGreaterThan(0);
      for (const seed of seeds) {
        const file = path.join(dir, `seed-${seed}`);
        fs.copyFileSync(path.join(corpus, seed), file);
        const r = chos("image", "check", file);
        expect([seed, r.status, r.stdout.split("\n")[1]]).toEqual([seed, 0, `${file}: good`]);
      }
    });

    test("a wrong pinned digest is refused", () => {
      const r = chos("image", "check", image, "--sha256", "0".repeat(64));
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`chos image: ${image}: sha256 differs from the pinned ${"0".repeat(64)}\n`);
    });

    test.each([
      [
        "truncated",
        (f: string) => fs.truncateSync(f, 8192),
        /: 8192 bytes, but its filesystem is \d+ bytes long \(truncated\)$/,
      ],
      [
        "with bytes after its padding",
        (f: string) => fs.appendFileSync(f, Buffer.alloc(8192)),
        new RegExp(`: \\d+ bytes follow its \\d+-byte filesystem \\(not an image as ${kind.tool} writes it\\)$`),
      ],
      [
        `not ${kind.filesystem}`,
        (f: string) => fs.writeFileSync(f, "hello\n"),
        new RegExp(`: not an? ${kind.filesystem} image \\(no superblock\\)$`),
      ],
    ])("an image %s is refused", (name, damage, message) => {
      const file = named(`damaged-${name.replace(/\W/g, "-")}`);
      fs.copyFileSync(image, file);
      damage(file);
      const r = chos("image", "check", file);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stdout).toBe("");
    });

    test("an image FILE not named .sqfs or .erofs is misuse", () => {
      const r = chos("image", "check", path.join(dir, "tiny.img"));
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("chos image: FILE must end in .sqfs or .erofs\n");
      expect(chos("image", "build", tiny, "-o", path.join(dir, "tiny.img")).status).toBe(2);
    });

    test("an image others may write, or in a directory they may, fails the trust rule", () => {
      const writable = named("writable");
      fs.copyFileSync(image, writable);
      fs.chmodSync(writable, 0o666);
      expect(chos("image", "check", writable).stderr).toBe(
        `chos image: ${writable}: writable by group and others, mode 0666 (not trusted)\n`,
      );
      const inTmp = path.join(os.tmpdir(), `chos-image-${process.pid}${kind.suffix}`);
      fs.copyFileSync(image, inTmp);
      try {
        const r = chos("image", "check", inTmp);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("(not trusted)");
      } finally {
        fs.rmSync(inTmp, { force: true });
      }
    });

    if (kind.filesystem === "squashfs") {
      const superblock = () => fs.readFileSync(image).subarray(0, 96);

      test("a corrupt superblock is refused field by field", () => {
        const version = corrupt("version", 28, 1);
        expect(chos("image", "check", version).stderr).toMatch(/: squashfs \d+\.0, not 4\.0\n$/);
        const table = corrupt("table", 72 + 5, 1);
        expect(chos("image", "check", table).stderr).toMatch(
          /: the superblock's directory table starts at \d+, outside the filesystem's \d+ bytes \(corrupt image\)\n$/,
        );
        const compressor = corrupt("compressor", 20, 1);
        expect(chos("image", "check", compressor).stderr).toMatch(/: unknown compressor id \d+ \(corrupt image\)\n$/);
        expect(superblock().readUInt32LE(0)).toBe(0x73717368);
      });

      test("a corrupt directory table is found by decompressing the metadata", () => {
        const start = Number(superblock().readBigUInt64LE(72));
        const file = corrupt("dirtab", start + 20, 16);
        const r = chos("image", "check", file);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(
          `chos image: ${file}: its metadata does not decompress (unsquashfs status 1): corrupt image\n`,
        );
      });
    } else {
      /** A copy of the image with the superblock's fields [offset from 1024, bytes, value] set,
       * and its checksum made again, so only those fields are wrong. */
      function withField(name: string, ...fields: [number, number, number][]): string {
        const data = fs.readFileSync(image);
        for (const [offset, bytes, value] of fields) data.writeUIntLE(value, 1024 + offset, bytes);
        data.writeUInt32LE(0, 1024 + 4);
        data.writeUInt32LE(crc32c(0xffffffff, data.subarray(1024, 4096)), 1024 + 4);
        const file = named(name);
        fs.writeFileSync(file, data, { mode: 0o644 });
        return file;
      }
      const refusal = (file: string) => {
        const r = chos("image", "check", file);
        expect([r.status, r.stdout]).toEqual([1, ""]);
        return r.stderr;
      };

      test("the superblock's checksum is the kernel's: a copy with it made again is good", () => {
        const file = withField("same", [16, 4, fs.readFileSync(image).readUInt32LE(1024 + 16)]);
        expect(sha256(file)).toBe(sha256(image));
        expect(fs.readFileSync(image).readUInt32LE(1024 + 8) & 1).toBe(1); // the feature bit says it is there
      });

      test("a superblock whose bytes do not match its checksum is refused", () => {
        const file = corrupt("checksum", 1024 + 16, 1);
        expect(refusal(file)).toMatch(
          /: superblock checksum 0x[0-9a-f]{8}, but its block sums to 0x[0-9a-f]{8} \(corrupt image\)\n$/,
        );
      });

      test("a corrupt superblock is refused field by field", () => {
        expect(refusal(withField("blkszbits", [12, 1, 13]))).toMatch(
          /: block size 2\^13, not the 4096 bytes Linux 6\.1 reads \(corrupt image\)\n$/,
        );
        expect(refusal(withField("incompat", [80, 4, 0x43]))).toMatch(
          /: incompatible features 0x40 that Linux 6\.1 does not know \(corrupt image\)\n$/,
        );
        expect(refusal(withField("devices", [80, 4, 0x0b], [86, 2, 2]))).toMatch(
          /: its data lies on 2 more devices \(not an image of one file\)\n$/,
        );
        expect(refusal(withField("algs", [84, 2, 0x81]))).toMatch(
          /: unknown compression algorithms 0x81 \(corrupt image\)\n$/,
        );
        expect(refusal(withField("extslots", [13, 1, 200]))).toMatch(
          /: 200 superblock extension slots overflow its block \(corrupt image\)\n$/,
        );
        expect(refusal(withField("inos", [16, 6, 0]))).toMatch(/: no inodes \(corrupt image\)\n$/);
        expect(refusal(withField("root", [14, 2, 0xffff]))).toMatch(
          /: the superblock's metadata \(block 0\), shared xattrs \(block 0\) or root inode \(byte 2097120\) lie outside the filesystem's \d+ blocks \(corrupt image\)\n$/,
        );
        expect(refusal(withField("blocks", [36, 4, 1]))).toMatch(
          /: \d+ bytes follow its 4096-byte filesystem \(not an image as mkfs.erofs writes it\)\n$/,
        );
      });

      test("a corrupt inode is found by fsck.erofs, which walks every inode", () => {
        const nid = Number(
          spawnSync("dump.erofs", ["--path=/usr/bin", image], { encoding: "utf8" }).stdout.match(/NID: (\d+)/)?.[1],
        );
        const file = corrupt("inode", nid * 32, 16);
        const r = chos("image", "check", file);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(
          `chos image: ${file}: its metadata or data does not decompress (fsck.erofs status 1): corrupt image\n`,
        );
      });

      test("refuses a tree whose etc is a mount of its own: the stand-ins would have to be made in it", () => {
        const copy = path.join(dir, "etc-mount.erofs.d");
        const out = named("etc-mount");
        const script = [
          `cp -a ${tiny} ${copy} && mount -t tmpfs -o mode=0755 etc ${copy}/etc && cp -a ${tiny}/etc/. ${copy}/etc/`,
          `exec ${CHOS} image build ${copy} -o ${out}`,
        ].join(" && ");
        const r = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-ec", script], {
          encoding: "utf8",
        });
        expect([r.status, r.stderr]).toEqual([
          1,
          "chos image: staging the tree for mkfs.erofs: etc is a mount of its own, so the stand-in for etc/passwd would have to be made in it (copy it into the tree, or build a squashfs)\n" +
            "chos image: mkfs.erofs failed (status 127)\n",
        ]);
        expect(fs.readdirSync(dir).filter((f) => f.startsWith("etc-mount.erofs."))).toEqual(["etc-mount.erofs.d"]);
      });

      test("only root builds one: mkfs.erofs reads the tree through an overlay", () => {
        const r = spawnSync(
          "setpriv",
          ["--reuid=65534", "--regid=65534", "--clear-groups", CHOS, "image", "build", tiny, "-o", named("nobody")],
          {
            encoding: "utf8",
          },
        );
        expect(r.status).toBe(1);
        expect(r.stderr).toBe(
          "chos image: an erofs image is built as root: mkfs.erofs reads the tree through an overlay that holds the stand-ins\n",
        );
        expect(fs.existsSync(named("nobody"))).toBe(false);
      });
    }
  });
});
