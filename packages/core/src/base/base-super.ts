// The base superblock (docs/format.md "daxfs_base_super"): the one decoder of where the base
// image keeps its inode table and data area. BaseImage passes throwOnProblem() and stops at the
// first problem; the validator (validate/base.ts) collects them and then checks every inode.
import {
  BaseFlags,
  DAXFS_BASE_INODE_SIZE,
  DAXFS_BASE_MAGIC,
  DAXFS_BLOCK_SIZE,
  DAXFS_ROOT_INO,
  DAXFS_VERSION,
  DaxfsBaseSuper,
} from "@daxfs/format";
import type { Region } from "../geometry.js";
import type { ImageSource } from "../image-source.js";
import { hex, type ProblemKind, type ProblemSink } from "../problems.js";

/** The base image's layout, every range inside its region. Offsets are base-relative. */
export interface BaseLayout {
  superblock: DaxfsBaseSuper;
  /** Bytes of the base image in use (total_size, at most the region's size). */
  totalSize: number;
  inodeOffset: number;
  inodeCount: number;
  /** Start of the data area, after the inode table. */
  dataOffset: number;
  /** Split mode (SPEC 2.9): regular-file data lives in a backing file. */
  externalData: boolean;
}

const BLOCK = BigInt(DAXFS_BLOCK_SIZE);
const STRUCTURE = "base_super";

/** Decodes the base superblock of the base image occupying `base`; null after a problem. */
export function decodeBaseSuper(source: ImageSource, base: Region, sink: ProblemSink): BaseLayout | null {
  const problem = (
    field: keyof typeof DaxfsBaseSuper.offsets,
    expected: string,
    actual: string,
    message: string,
    kind: ProblemKind = "corrupt",
  ) => {
    const cName = DaxfsBaseSuper.fields.find((f) => f.name === field)?.cName ?? field;
    sink.add({
      offset: base.offset + DaxfsBaseSuper.offsets[field],
      structure: STRUCTURE,
      field: cName,
      expected,
      actual,
      message: `base superblock: ${message}`,
      kind,
    });
  };
  if (base.size < DaxfsBaseSuper.size) {
    sink.add({
      offset: base.offset,
      structure: STRUCTURE,
      field: "size",
      expected: `>= ${DaxfsBaseSuper.size}`,
      actual: String(base.size),
      message: `base image: region of ${base.size} bytes is smaller than its superblock`,
      kind: "corrupt",
    });
    return null;
  }
  const sb = DaxfsBaseSuper.decode(source.read(base.offset, DaxfsBaseSuper.size), 0);
  if (sb.magic !== DAXFS_BASE_MAGIC) {
    problem("magic", hex(DAXFS_BASE_MAGIC), hex(sb.magic), `bad magic ${hex(sb.magic)}`);
    return null;
  }
  if (sb.version !== DAXFS_VERSION) {
    problem(
      "version",
      String(DAXFS_VERSION),
      String(sb.version),
      `unsupported version ${sb.version}`,
      "unsupported",
    );
    return null;
  }
  if ((sb.flags & ~BaseFlags.EXTERNAL_DATA) !== 0) {
    problem(
      "flags",
      "0 or 1 (EXTERNAL_DATA)",
      hex(sb.flags),
      `unknown flags ${hex(sb.flags)}`,
      "unsupported",
    );
    return null;
  }
  if (sb.totalSize > BigInt(base.size)) {
    problem(
      "totalSize",
      `<= ${base.size} (superblock base_size)`,
      String(sb.totalSize),
      `base image of ${sb.totalSize} bytes is larger than its ${base.size}-byte region`,
    );
    return null;
  }
  if (sb.inodeCount === 0) {
    problem("inodeCount", ">= 1", "0", "base image has no inodes");
    return null;
  }
  if (sb.inodeOffset < BigInt(DaxfsBaseSuper.size) || sb.inodeOffset % BLOCK !== 0n) {
    problem(
      "inodeOffset",
      "a multiple of 4096, >= 4096",
      hex(sb.inodeOffset),
      `inode table at ${hex(sb.inodeOffset)} overlaps the base superblock or is unaligned`,
    );
    return null;
  }
  const tableBytes = BigInt(sb.inodeCount) * BigInt(DAXFS_BASE_INODE_SIZE);
  if (sb.inodeOffset + tableBytes > sb.totalSize) {
    problem(
      "inodeCount",
      `<= ${(sb.totalSize - sb.inodeOffset) / BigInt(DAXFS_BASE_INODE_SIZE)}`,
      String(sb.inodeCount),
      `inode table of ${sb.inodeCount} slots at ${sb.inodeOffset} does not fit in the ${sb.totalSize}-byte base`,
    );
    return null;
  }
  const dataStart = sb.inodeOffset + tableBytes;
  if (sb.dataOffset < dataStart || sb.dataOffset > sb.totalSize || sb.dataOffset % BLOCK !== 0n) {
    problem(
      "dataOffset",
      `a multiple of 4096 in [${dataStart}, ${sb.totalSize}]`,
      String(sb.dataOffset),
      `data area at ${sb.dataOffset} overlaps the inode table or lies outside the base`,
    );
    return null;
  }
  if (sb.rootInode !== DAXFS_ROOT_INO) {
    problem(
      "rootInode",
      String(DAXFS_ROOT_INO),
      String(sb.rootInode),
      `root inode ${sb.rootInode} is not inode ${DAXFS_ROOT_INO} (OVERVIEW.md 2)`,
    );
    return null;
  }
  return {
    superblock: sb,
    totalSize: Number(sb.totalSize),
    inodeOffset: Number(sb.inodeOffset),
    inodeCount: sb.inodeCount,
    dataOffset: Number(sb.dataOffset),
    externalData: (sb.flags & BaseFlags.EXTERNAL_DATA) !== 0,
  };
}
