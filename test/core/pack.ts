// The bytecode file's layout (pam/core/policy/policy_pack.h), read independently of the C code so
// tests can check what it wrote and corrupt exactly the part they mean to.
export const HEADER_SIZE = 328;
export const TOP_SIZE = 104;
export const UNIT_SIZE = 176;
const NAME = 72;

/** One unit entry (struct chos_pack_unit). */
export interface PackUnit {
  readonly at: number; // where the entry lies in the file
  readonly group: string;
  readonly sourceOffset: number;
  readonly sourceLength: number;
  readonly line: number;
  readonly sourceSha256: string;
  readonly bytecodeOffset: number;
  readonly bytecodeLength: number;
  readonly bytecodeSha256: string;
}

/** The whole pack, parsed. */
export interface Pack {
  readonly magic: string;
  readonly quickjs: string;
  readonly bundleSize: number;
  readonly packSize: number;
  readonly buildId: string;
  readonly groups: number;
  readonly blockEntries: number;
  readonly blocks: number;
  readonly base: PackUnit;
  readonly topSha256: string;
  readonly headerSha256: string;
  readonly top: { readonly first: string; readonly blockSha256: string }[];
  readonly units: PackUnit[]; // the group units, in file order
}

function cString(b: Buffer, at: number, n: number): string {
  const s = b.subarray(at, at + n);
  const end = s.indexOf(0);
  return s.subarray(0, end < 0 ? n : end).toString();
}

function unit(b: Buffer, at: number): PackUnit {
  return {
    at,
    group: cString(b, at, NAME),
    sourceOffset: Number(b.readBigUInt64LE(at + 72)),
    sourceLength: Number(b.readBigUInt64LE(at + 80)),
    line: b.readUInt32LE(at + 88),
    sourceSha256: b.subarray(at + 96, at + 128).toString("hex"),
    bytecodeOffset: Number(b.readBigUInt64LE(at + 128)),
    bytecodeLength: Number(b.readBigUInt64LE(at + 136)),
    bytecodeSha256: b.subarray(at + 144, at + 176).toString("hex"),
  };
}

export function readPack(b: Buffer): Pack {
  const groups = b.readUInt32LE(72);
  const blocks = b.readUInt32LE(80);
  const top = Array.from({ length: blocks }, (_, i) => {
    const at = HEADER_SIZE + i * TOP_SIZE;
    return { first: cString(b, at, NAME), blockSha256: b.subarray(at + NAME, at + TOP_SIZE).toString("hex") };
  });
  const entries = HEADER_SIZE + blocks * TOP_SIZE;
  return {
    magic: b.subarray(0, 8).toString(),
    quickjs: cString(b, 8, 16),
    bundleSize: Number(b.readBigUInt64LE(24)),
    packSize: Number(b.readBigUInt64LE(32)),
    buildId: b.subarray(40, 72).toString("hex"),
    groups,
    blockEntries: b.readUInt32LE(76),
    blocks,
    base: unit(b, 88),
    topSha256: b.subarray(264, 296).toString("hex"),
    headerSha256: b.subarray(296, 328).toString("hex"),
    top,
    units: Array.from({ length: groups }, (_, i) => unit(b, entries + i * UNIT_SIZE)),
  };
}
