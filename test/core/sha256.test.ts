// The core's SHA-256 (pam/core/common/sha256.c, through the addon) against Node's crypto: the FIPS
// 180-4 example vectors, every length around the padding boundaries, and random inputs up to
// a megabyte (the bytecode header's digests, policy_load.c, depend on it). Both
// implementations: the portable one, and the one a login uses (the SHA extensions where the
// processor has them).
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { native } from "./lib";

function node(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

const IMPLEMENTATIONS = [
  { name: "portable", portable: true },
  { name: native.sha256Accelerated() ? "SHA extensions" : "default (portable here)", portable: false },
];

describe.each(IMPLEMENTATIONS)("sha256, $name", ({ portable }) => {
  test("the standard vectors give their published digests", () => {
    const vectors: [string, string][] = [
      ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
      ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
      [
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
      ],
      [
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
      ],
      ["a".repeat(1000000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
    ];
    for (const [text, digest] of vectors) expect(native.sha256(Buffer.from(text), { portable })).toBe(digest);
  });

  test("every length from 0 to 300 bytes and the block boundaries up to 1 MB match Node's crypto", () => {
    const lengths = [
      ...Array.from({ length: 301 }, (_, n) => n),
      511,
      512,
      513,
      4095,
      4096,
      4097,
      65535,
      65536,
      65537,
      1 << 20,
      (1 << 20) + 55,
    ];
    for (const n of lengths) {
      const data = randomBytes(n);
      expect({ n, digest: native.sha256(data, { portable }) }).toEqual({ n, digest: node(data) });
    }
  });

  test("a view into a larger buffer is hashed over its own bytes only", () => {
    const whole = randomBytes(200);
    const view = whole.subarray(17, 17 + 64);
    expect(native.sha256(view, { portable })).toBe(node(view));
  });

  test("anything but a Uint8Array is a TypeError", () => {
    for (const bad of ["abc", new Uint16Array(4), undefined]) {
      let thrown: unknown;
      try {
        native.sha256(bad as unknown as Uint8Array, { portable });
      } catch (e) {
        thrown = e;
      }
      // The addon's errors come from another realm than jest's: compare name and message.
      expect({ name: (thrown as Error).name, message: (thrown as Error).message }).toEqual({
        name: "TypeError",
        message: "sha256(data): data must be a Uint8Array",
      });
    }
  });
});

test("the SHA extensions are used exactly when the kernel reports sha_ni and ssse3 for this CPU", () => {
  const flags = new Set(
    (/^flags\s*:(.*)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "").trim().split(/\s+/),
  );
  expect(native.sha256Accelerated()).toBe(flags.has("sha_ni") && flags.has("ssse3"));
});
