// `chos image build` and `chos image check` (pam/cmd/image.c, pam/core/setup/image.c) on the
// busybox test tree, as root: a reproducible zstd squashfs whose served files are empty stand-ins,
// which the kernel mounts; and every refusal with its message: an untrusted tree or image, a
// truncated file, a corrupt superblock, table or metadata block, trailing bytes, a wrong pinned
// digest, misuse. Images live under /run (0755, root's): /tmp's mode 1777 fails the trust rule.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { prepareTrees } from "../system/lib/trees";
import { CHOS } from "./lib/fixture";

let dir: string;
let tiny: string;
let image: string;

function chos(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(CHOS, args, { encoding: "utf8" });
}

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** `unsquashfs -lls` lines, keyed by the path inside the image. */
function listing(file: string): Map<string, string> {
  const out = spawnSync("unsquashfs", ["-lls", file], { encoding: "utf8" }).stdout;
  return new Map(
    out
      .split("\n")
      .filter((l) => l.includes("squashfs-root/"))
      .map((l) => [l.slice(l.indexOf("squashfs-root/") + "squashfs-root/".length), l]),
  );
}

/** A copy of the image with bytes changed at offset (each XORed with 0x5a). */
function corrupt(name: string, offset: number, length: number): string {
  const data = fs.readFileSync(image);
  for (let i = 0; i < length; i++) data[offset + i] ^= 0x5a;
  const file = path.join(dir, name);
  fs.writeFileSync(file, data, { mode: 0o644 });
  return file;
}

beforeAll(() => {
  const links = fs.mkdtempSync(path.join(os.tmpdir(), "chos-image-trees-"));
  tiny = prepareTrees(links).tiny;
  fs.rmSync(links, { recursive: true, force: true });
  dir = fs.mkdtempSync("/run/chos-image-");
  fs.chmodSync(dir, 0o755);
  image = path.join(dir, "tiny.sqfs");
  const r = chos("image", "build", tiny, "-o", image);
  if (r.status !== 0) throw new Error(`chos image build failed: ${r.stderr}`);
}, 900_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("chos image build", () => {
  test("prints the image's size and the SHA-256 of its bytes, and leaves it 0644", () => {
    const r = chos("image", "build", tiny, "-o", path.join(dir, "again.sqfs"));
    expect(r.status).toBe(0);
    const size = fs.statSync(image).size;
    expect(r.stdout).toBe(
      `${path.join(dir, "again.sqfs")}: squashfs zstd, ${r.stdout.match(/(\d+) inodes/)?.[1]} inodes, ${size} bytes, sha256 ${sha256(image)}\n`,
    );
    expect(fs.statSync(image).mode & 0o7777).toBe(0o644);
  });

  test("is reproducible: the same tree a second later gives the same bytes", () => {
    const again = path.join(dir, "later.sqfs");
    spawnSync("sleep", ["1.1"]);
    expect(chos("image", "build", tiny, "-o", again).status).toBe(0);
    expect(sha256(again)).toBe(sha256(image));
  });

  test("leaves the served files out: each is an empty root-owned stand-in a bind can cover", () => {
    const entries = listing(image);
    for (const served of ["etc/passwd", "etc/group", "etc/shadow", "etc/hosts", "etc/localtime", "etc/chos"]) {
      expect(entries.get(served)).toMatch(/^-rw-r--r-- root\/root\s+0 1970-01-01 00:00 /);
    }
    expect(entries.get("etc/chos.d")).toMatch(/^drwxr-xr-x root\/root/);
    expect([...entries.keys()].filter((p) => p.startsWith("etc/chos.d/"))).toEqual([]);
    expect(entries.get("etc/os-release")).toMatch(/^-rw-r--r-- root\/root\s+[1-9]/);
  });

  test("stamps the stand-ins and the image with SOURCE_DATE_EPOCH when it is set", () => {
    const stamped = path.join(dir, "stamped.sqfs");
    const r = spawnSync(CHOS, ["image", "build", tiny, "-o", stamped], {
      encoding: "utf8",
      env: { ...process.env, SOURCE_DATE_EPOCH: "1700000000" },
    });
    expect(r.status).toBe(0);
    expect(listing(stamped).get("etc/passwd")).toMatch(/ 2023-11-14 /);
    expect(fs.readFileSync(stamped).readUInt32LE(8)).toBe(1700000000);
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
        `mkdir -p ${dir}/mnt && mount -o loop,ro,nosuid,nodev ${image} ${dir}/mnt && cat ${dir}/mnt/etc/os-release && ! touch ${dir}/mnt/x`,
      ],
      { encoding: "utf8" },
    );
    expect(r.stderr).toContain("Read-only file system");
    expect(r.stdout).toBe(fs.readFileSync(path.join(tiny, "etc/os-release"), "utf8"));
    expect(r.status).toBe(0);
  });

  test("refuses a tree that fails the trust rule, and writes nothing", () => {
    const open = path.join(dir, "open-tree");
    fs.mkdirSync(path.join(open, "etc"), { recursive: true });
    fs.chmodSync(open, 0o777);
    const out = path.join(dir, "open.sqfs");
    const r = chos("image", "build", open, "-o", out);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`chos image: tree ${open}: writable by group and others, mode 0777 (not trusted)\n`);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("open.sqfs"))).toEqual([]);
  });

  test("misuse: relative paths, a missing -o, an unknown subcommand exit 2", () => {
    expect(chos("image", "build", "tree", "-o", image).status).toBe(2);
    expect(chos("image", "build", tiny, image).status).toBe(2);
    expect(chos("image", "pack", tiny).status).toBe(2);
    expect(chos("image", "check", "tiny.sqfs").stderr).toContain("paths must be absolute");
  });
});

describe("chos image check", () => {
  const superblock = () => fs.readFileSync(image).subarray(0, 96);

  test("a good image: its line, then good; with its digest pinned, as pinned (either case)", () => {
    const r = chos("image", "check", image);
    expect(r.status).toBe(0);
    const [line, verdict, end] = r.stdout.split("\n");
    expect(line.startsWith(`${image}: squashfs zstd, `)).toBe(true);
    expect(line.endsWith(` inodes, ${fs.statSync(image).size} bytes, sha256 ${sha256(image)}`)).toBe(true);
    expect([verdict, end]).toEqual([`${image}: good`, ""]);
    const pinned = chos("image", "check", image, "--sha256", sha256(image).toUpperCase());
    expect(pinned.stdout).toContain(`${image}: good, sha256 as pinned\n`);
    expect(pinned.status).toBe(0);
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
      /: \d+ bytes, but its filesystem is \d+ bytes long \(truncated\)$/,
    ],
    [
      "with bytes after its padding",
      (f: string) => fs.appendFileSync(f, Buffer.alloc(8192)),
      /: \d+ bytes follow its \d+-byte filesystem \(not an image as mksquashfs writes it\)$/,
    ],
    ["not squashfs", (f: string) => fs.writeFileSync(f, "hello\n"), /: not a squashfs image \(no superblock\)$/],
  ])("an image %s is refused", (_name, damage, message) => {
    const file = path.join(dir, `damaged-${_name.replace(/\W/g, "-")}.sqfs`);
    fs.copyFileSync(image, file);
    damage(file);
    const r = chos("image", "check", file);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stdout).toBe("");
  });

  test("a corrupt superblock is refused field by field", () => {
    const version = corrupt("version.sqfs", 28, 1);
    expect(chos("image", "check", version).stderr).toMatch(/: squashfs \d+\.0, not 4\.0\n$/);
    const table = corrupt("table.sqfs", 72 + 5, 1);
    expect(chos("image", "check", table).stderr).toMatch(
      /: the superblock's directory table starts at \d+, outside the filesystem's \d+ bytes \(corrupt image\)\n$/,
    );
    const compressor = corrupt("compressor.sqfs", 20, 1);
    expect(chos("image", "check", compressor).stderr).toMatch(/: unknown compressor id \d+ \(corrupt image\)\n$/);
    expect(superblock().readUInt32LE(0)).toBe(0x73717368);
  });

  test("a corrupt directory table is found by decompressing the metadata", () => {
    const start = Number(superblock().readBigUInt64LE(72));
    const file = corrupt("dirtab.sqfs", start + 20, 16);
    const r = chos("image", "check", file);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `chos image: ${file}: its metadata does not decompress (unsquashfs status 1): corrupt image\n`,
    );
  });

  test("an image others may write, or in a directory they may, fails the trust rule", () => {
    const writable = path.join(dir, "writable.sqfs");
    fs.copyFileSync(image, writable);
    fs.chmodSync(writable, 0o666);
    expect(chos("image", "check", writable).stderr).toBe(
      `chos image: ${writable}: writable by group and others, mode 0666 (not trusted)\n`,
    );
    const inTmp = path.join(os.tmpdir(), `chos-image-${process.pid}.sqfs`);
    fs.copyFileSync(image, inTmp);
    try {
      const r = chos("image", "check", inTmp);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("(not trusted)");
    } finally {
      fs.rmSync(inTmp, { force: true });
    }
  });
});
