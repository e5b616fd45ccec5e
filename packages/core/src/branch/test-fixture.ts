// A minimal branching image for branch-layer tests: superblock, branch table and delta region, no
// base tree (base_offset 0), so these tests do not depend on the image builder.
import { DAXFS_SUPER_MAGIC, DaxfsDeltaHdr, DaxfsDeltaTruncate, DaxfsSuper, DeltaType } from "@daxfs/format";

export function makeBranchingImage(
  options: { tableEntries?: number; deltaSize?: number; nextInodeId?: number } = {},
): Uint8Array {
  const tableEntries = options.tableEntries ?? 256;
  const deltaSize = options.deltaSize ?? 8 * 1024 * 1024;
  const deltaOffset = 36864;
  const bytes = new Uint8Array(deltaOffset + deltaSize);
  const sb = DaxfsSuper.zero();
  sb.magic = DAXFS_SUPER_MAGIC;
  sb.version = 5;
  sb.blockSize = 4096;
  sb.totalSize = BigInt(bytes.length);
  sb.branchTableOffset = 4096n;
  sb.branchTableEntries = tableEntries;
  sb.nextBranchId = 1n;
  sb.nextInodeId = BigInt(options.nextInodeId ?? 2);
  sb.deltaRegionOffset = BigInt(deltaOffset);
  sb.deltaRegionSize = BigInt(deltaSize);
  sb.deltaAllocOffset = BigInt(deltaOffset);
  DaxfsSuper.encode(bytes, 0, sb);
  return bytes;
}

/** A TRUNCATE entry (32 bytes) of inode `ino`: the smallest well-formed entry, used as a marker. */
export function truncateEntry(ino: number, newSize: number): Uint8Array {
  const bytes = new Uint8Array(32);
  DaxfsDeltaHdr.encode(bytes, 0, {
    type: DeltaType.TRUNCATE,
    totalSize: 32,
    ino: BigInt(ino),
    timestamp: 0n,
  });
  DaxfsDeltaTruncate.encode(bytes, 24, { newSize: BigInt(newSize) });
  return bytes;
}

/** A WRITE-typed entry of arbitrary total size, for growth tests. */
export function writeEntry(ino: number, fileOffset: number, data: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(40 + data.length);
  DaxfsDeltaHdr.encode(bytes, 0, {
    type: DeltaType.WRITE,
    totalSize: bytes.length,
    ino: BigInt(ino),
    timestamp: 0n,
  });
  const view = new DataView(bytes.buffer);
  view.setBigUint64(24, BigInt(fileOffset), true);
  view.setUint32(32, data.length, true);
  bytes.set(data, 40);
  return bytes;
}
