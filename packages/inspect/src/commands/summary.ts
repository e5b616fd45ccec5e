// info, status, list, branch info and the branch tree (SPEC.md 2.12 for the public shapes of
// list/info/status; ours adds regions, usage and the tree). Everything reads through DaxfsImage,
// whose open() already checks that every region lies inside the image.
import {
  type BranchRecord,
  CorruptImageError,
  countInodeTypes,
  DaxfsError,
  type DaxfsImage,
  type DeltaUsage,
  deltaTypeName,
  deltaUsage,
  deltaUsageWarning,
  featureNames,
  type InodeTypeCounts,
  inodeCountText,
  noBranchInStaticImage,
  readLeases,
} from "@daxfs/core";
import { BranchState, DAXFS_SUPER_MAGIC, type DaxfsSuper, DeltaType } from "@daxfs/format";
import { bytesAndKb, columns, emit, hex, humanSize, type Output, percent } from "../render.js";

const STATE_NAMES = ["free", "active", "committed", "aborted"];
export const stateName = (state: number) => STATE_NAMES[state] ?? "unknown";

interface PageCacheSummary {
  offset: number;
  size: number;
  slots: number;
  hashShift: number;
  headerValid: boolean;
  pending?: number;
  valid?: number;
  free?: number;
  pendingSlots?: number;
}

function pageCacheSummary(image: DaxfsImage, sb: DaxfsSuper): PageCacheSummary | null {
  if (sb.pcacheOffset === 0n) return null;
  const offset = Number(sb.pcacheOffset);
  const summary: PageCacheSummary = {
    offset,
    size: Number(sb.pcacheSize),
    slots: sb.pcacheSlotCount,
    hashShift: sb.pcacheHashShift,
    headerValid: false,
  };
  // The header and slots as core decodes them (DaxfsImage.open refuses a bad header).
  const cache = image.base?.pageCache;
  if (!cache) return summary;
  summary.headerValid = true;
  summary.pending = cache.header.pendingCount;
  const { valid, pending, free } = cache.slotStates();
  Object.assign(summary, { valid, pendingSlots: pending, free });
  return summary;
}

function lastCommitted(image: DaxfsImage, sb: DaxfsSuper): string {
  const id = sb.coord.lastCommittedId;
  if (id === 0n) return "(none)";
  const record = image.branches().find((b) => BigInt(b.id) === id);
  return record && record.name !== "" ? `${record.name} (id:${id})` : `id:${id}`;
}

/** The base inodes by type, or null when a slot cannot be read (validate says which and why). */
function baseInodeTypes(image: DaxfsImage): InodeTypeCounts | null {
  const base = image.base;
  if (!base) return null;
  try {
    const modes: number[] = [];
    for (let ino = 1; ino <= base.inodeCount; ino++) {
      const inode = base.readInode(ino);
      if (inode) modes.push(inode.mode);
    }
    return countInodeTypes(modes);
  } catch {
    return null;
  }
}

/** `daxfs-inspect IMAGE info`: superblock, regions, usage, page cache. */
export function infoCommand(image: DaxfsImage, out: Output): void {
  const sb = image.readSuper();
  const regions: { name: string; offset: number; size: number }[] = [
    { name: "superblock", offset: 0, size: 4096 },
  ];
  if (sb.branchTableOffset !== 0n)
    regions.push({
      name: "branch table",
      offset: Number(sb.branchTableOffset),
      size: sb.branchTableEntries * 128,
    });
  if (sb.baseOffset !== 0n)
    regions.push({ name: "base image", offset: Number(sb.baseOffset), size: Number(sb.baseSize) });
  if (sb.pcacheOffset !== 0n)
    regions.push({ name: "page cache", offset: Number(sb.pcacheOffset), size: Number(sb.pcacheSize) });
  if (sb.deltaRegionOffset !== 0n)
    regions.push({
      name: "delta region",
      offset: Number(sb.deltaRegionOffset),
      size: Number(sb.deltaRegionSize),
    });
  regions.sort((a, b) => a.offset - b.offset);
  const base = image.base?.superblock ?? null;
  const inodeTypes = baseInodeTypes(image);
  const branches = image.branches();
  const deltaUsed = sb.deltaRegionOffset === 0n ? 0 : Number(sb.deltaAllocOffset - sb.deltaRegionOffset);
  // In use = allocated minus what reuse can hand out again (docs/space.md "Reuse").
  const reuse = sb.branchTableEntries !== 0 ? reuseUsage(image) : null;
  const warning = reuse ? deltaUsageWarning(image.source.name, reuse) : null;
  const leases = reuse ? readLeases(image) : [];
  const result = {
    image: image.source.name,
    mode: sb.branchTableEntries === 0 ? "static" : sb.pcacheOffset !== 0n ? "split" : "branching",
    // Reserved bytes (zero in v5; our lock owner and space records, docs/coordination.md and docs/space.md) are no JSON.
    superblock: { ...sb, reserved: undefined, coord: { ...sb.coord, reserved: undefined } },
    /** Format extensions the superblock announces (docs/semantics.md "Extensions"); [] for plain v5. */
    extensions: featureNames(sb.flags),
    regions,
    base: base && {
      totalSize: base.totalSize,
      inodeOffset: base.inodeOffset,
      inodeCount: base.inodeCount,
      /** directories, files (regular), symlinks; null when a slot cannot be read. */
      inodeTypes,
      rootInode: base.rootInode,
      dataOffset: base.dataOffset,
      externalData: (base.flags & 1) !== 0,
    },
    usage: {
      imageBytes: image.source.size,
      baseUsed: base ? Number(base.totalSize) : 0,
      baseSize: Number(sb.baseSize),
      deltaAllocated: deltaUsed,
      deltaFree: Number(sb.deltaRegionSize) - deltaUsed,
      ...(reuse ? { deltaInUse: reuse.used, deltaWaitingForMounts: reuse.waiting } : {}),
      mountLeases: leases.map((l) => ({ branchId: l.branchId, pid: l.pid, serial: l.serial })),
      branchSlots: sb.branchTableEntries,
      branchesUsed: branches.length,
      branchesActive: branches.filter((b) => b.state === BranchState.ACTIVE).length,
      nextInodeId: sb.nextInodeId,
    },
    coordination: {
      commitSequence: sb.coord.commitSequence,
      lastCommittedId: sb.coord.lastCommittedId,
      lockHeld: sb.coord.coordLock !== 0,
    },
    pageCache: pageCacheSummary(image, sb),
    ...(warning ? { warning } : {}),
  };
  emit(out, result, () => {
    const lines = [
      `Image:        ${result.image} (${humanSize(image.source.size)}, ${result.mode})`,
      `Superblock:   magic ${hex(sb.magic)}, version ${sb.version}, block size ${sb.blockSize}, total size ${sb.totalSize}`,
      `Extensions:   ${result.extensions.length === 0 ? "none (plain v5)" : result.extensions.join(", ")}`,
      "",
      "Regions:",
      `  ${columns([14, 12, 12], ["REGION", "OFFSET", "SIZE", "END"])}`,
      ...regions.map(
        (r) => `  ${columns([14, 12, 12], [r.name, hex(r.offset), String(r.size), hex(r.offset + r.size)])}`,
      ),
      "",
    ];
    if (base) {
      lines.push(
        "Base image:",
        // The terms and numbers of mkdaxfs's summary and validate (docs/cli.md "Counts").
        `  Contents:      ${inodeTypes ? inodeCountText(base.inodeCount, inodeTypes) : `${base.inodeCount} inodes`}`,
        `  Inode table:   +${hex(base.inodeOffset)}, root inode ${base.rootInode}`,
        `  Data area:     +${hex(base.dataOffset)}${result.base?.externalData ? " (file data in a backing file)" : ""}`,
        `  Used:          ${base.totalSize} of ${sb.baseSize} bytes (${percent(Number(base.totalSize), Number(sb.baseSize))})`,
        "",
      );
    }
    if (sb.branchTableEntries !== 0) {
      lines.push(
        "Branches:",
        `  Slots:         ${branches.length} used of ${sb.branchTableEntries}, ${result.usage.branchesActive} active, next id ${sb.nextBranchId}`,
        `  Delta region:  ${deltaUsed} of ${sb.deltaRegionSize} bytes allocated (${percent(deltaUsed, Number(sb.deltaRegionSize))})`,
        ...(reuse && reuse.used !== deltaUsed
          ? [
              `  In use:        ${reuse.used} bytes (${percent(reuse.used, reuse.size)}; the rest is reusable${reuse.waiting ? `, ${reuse.waiting} once mounts end` : ""})`,
            ]
          : []),
        `  Commits:       sequence ${sb.coord.commitSequence}, last ${lastCommitted(image, sb)}, lock ${sb.coord.coordLock ? "held" : "free"}`,
        `  Next inode:    ${sb.nextInodeId}`,
        ...(leases.length > 0
          ? [
              `  Mount leases:  ${leases.map((l) => `${l.pid === 0 ? "kernel" : `pid ${l.pid}`} on branch ${l.branchId}`).join(", ")}`,
            ]
          : []),
        "",
      );
    }
    const pc = result.pageCache;
    if (pc) {
      lines.push(
        "Page cache:",
        `  Slots:         ${pc.slots} (hash shift ${pc.hashShift}), ${pc.size} bytes at ${hex(pc.offset)}`,
      );
      if (!pc.headerValid) lines.push("  Header:        invalid magic");
      else if (pc.valid !== undefined)
        lines.push(
          `  Slot states:   ${pc.valid} valid, ${pc.free} free, ${pc.pendingSlots} pending (occupancy ${percent(pc.valid, pc.slots)})`,
        );
      lines.push("");
    }
    while (lines.at(-1) === "") lines.pop();
    if (warning) lines.push("", `Warning: ${warning}`);
    return lines;
  });
}

/** The delta region's usage with reuse, or null when the table cannot be read (a corrupt image). */
function reuseUsage(image: DaxfsImage): DeltaUsage | null {
  try {
    return deltaUsage(image);
  } catch {
    return null;
  }
}

/** Public `status` (SPEC.md 2.12): "DAXFS Memory Status" and its sections. */
export function statusCommand(image: DaxfsImage, out: Output): void {
  const sb = image.readSuper();
  const pc = pageCacheSummary(image, sb);
  const allocated = sb.deltaRegionOffset === 0n ? 0n : sb.deltaAllocOffset - sb.deltaRegionOffset;
  const branches = image.branches();
  const result = {
    format: { magic: sb.magic, version: sb.version, blockSize: sb.blockSize, totalSize: sb.totalSize },
    baseImage: { offset: sb.baseOffset, size: sb.baseSize },
    branchTable: {
      entries: sb.branchTableEntries,
      active: branches.filter((b) => b.state === BranchState.ACTIVE).length,
      nextBranchId: sb.nextBranchId,
    },
    coordination: { commitSequence: sb.coord.commitSequence, lastCommitted: lastCommitted(image, sb) },
    deltaRegion: {
      offset: sb.deltaRegionOffset,
      totalSize: sb.deltaRegionSize,
      allocated,
      free: sb.deltaRegionSize - allocated,
    },
    inodes: { nextInodeId: sb.nextInodeId },
    pageCache: pc,
  };
  emit(out, result, () => {
    const lines = [
      "DAXFS Memory Status",
      "===================",
      "",
      "Format:",
      `  Magic:           ${hex(sb.magic)}${sb.magic === DAXFS_SUPER_MAGIC ? " (valid)" : ""}`,
      `  Version:         ${sb.version}`,
      `  Block size:      ${sb.blockSize}`,
      `  Total size:      ${bytesAndKb(sb.totalSize)}`,
      "",
      "Base image:",
      `  Offset:          ${hex(sb.baseOffset)}`,
      `  Size:            ${bytesAndKb(sb.baseSize)}`,
      "",
      "Branch table:",
      `  Entries (max):   ${sb.branchTableEntries}`,
      `  Active:          ${result.branchTable.active}`,
      `  Next branch ID:  ${sb.nextBranchId}`,
      "",
      "Global coordination:",
      `  Commit sequence: ${sb.coord.commitSequence}`,
      `  Last committed:  ${result.coordination.lastCommitted}`,
      "",
      "Delta region:",
      `  Offset:          ${hex(sb.deltaRegionOffset)}`,
      `  Total size:      ${bytesAndKb(sb.deltaRegionSize)}`,
      `  Allocated:       ${bytesAndKb(allocated)}`,
      `  Free:            ${bytesAndKb(sb.deltaRegionSize - allocated)}`,
      "",
      "Inodes:",
      `  Next inode ID:   ${sb.nextInodeId}`,
    ];
    if (pc) {
      lines.push(
        "",
        "Page cache:",
        `  Offset:          ${hex(pc.offset)}`,
        `  Size:            ${bytesAndKb(pc.size)}`,
        `  Slots:           ${pc.slots}`,
        `  Hash shift:      ${pc.hashShift}`,
      );
      if (pc.headerValid) {
        lines.push(`  Pending:         ${pc.pending}`);
        if (pc.valid !== undefined) {
          lines.push(
            `  Slot states:     ${pc.valid} valid, ${pc.free} free, ${pc.pendingSlots} pending`,
            `  Occupancy:       ${percent(pc.valid, pc.slots)}`,
          );
        }
      }
    }
    return lines;
  });
}

function parentLabel(record: BranchRecord, byId: Map<number, BranchRecord>): string {
  if (record.parentId === 0) return "-";
  const parent = byId.get(record.parentId);
  return parent && parent.name !== "" ? parent.name : `id:${record.parentId}`;
}

/** Public `list` (SPEC.md 2.12). */
export function listCommand(image: DaxfsImage, out: Output): void {
  const sb = image.readSuper();
  const records = image.branches();
  const byId = new Map(records.map((r) => [r.id, r]));
  const widths = [4, 20, 10, 10, 8, 6, 12];
  emit(
    out,
    {
      branches: records.map((r) => ({ ...r, stateName: stateName(r.state) })),
      total: records.length,
      slotsAvailable: sb.branchTableEntries - records.length,
    },
    () => {
      const header = columns(widths, [
        "ID",
        "NAME",
        "STATE",
        "PARENT",
        "REFCNT",
        "GEN",
        "DELTA_USED",
        "DELTA_CAP",
      ]);
      return [
        header,
        "-".repeat(header.length),
        ...records.map((r) =>
          columns(widths, [
            String(r.id),
            r.name === "" ? "(unnamed)" : r.name,
            stateName(r.state),
            parentLabel(r, byId),
            String(r.refcount),
            String(r.generation),
            String(r.logSize),
            String(r.logCapacity),
          ]),
        ),
        "",
        `Total: ${records.length} branches, ${sb.branchTableEntries - records.length} slots available`,
      ];
    },
  );
}

/** Public `info -b NAME` (SPEC.md 2.12): one branch's record and the entry counts of its log. */
export function branchInfoCommand(image: DaxfsImage, name: string, out: Output): void {
  if (!image.branching) throw noBranchInStaticImage(image.source.name, name);
  const record = image.branches().find((r) => r.name === name);
  if (!record) throw new DaxfsError("ENOENT", `branch '${name}' not found`);
  const byId = new Map(image.branches().map((r) => [r.id, r]));
  const counts = new Map<string, number>();
  let parseError: string | undefined;
  try {
    for (const entry of image.readBranchLog(record))
      counts.set(deltaTypeName(entry.type), (counts.get(deltaTypeName(entry.type)) ?? 0) + 1);
  } catch (error) {
    if (!(error instanceof CorruptImageError)) throw error;
    parseError = error.message; // the public tool stops at an overrun and prints what it counted
  }
  const parent =
    record.parentId === 0
      ? "(none - root branch)"
      : byId.has(record.parentId)
        ? `${parentLabel(record, byId)} (id:${record.parentId})`
        : `id:${record.parentId} (not found)`;
  emit(
    out,
    { ...record, stateName: stateName(record.state), parent, entryCounts: counts, parseError },
    () => {
      const lines = [
        `Branch: ${record.name}`,
        `  ID:              ${record.id}`,
        `  State:           ${stateName(record.state)}`,
        `  Generation:      ${record.generation}`,
        `  Parent:          ${parent}`,
        `  Reference count: ${record.refcount}`,
        `  Next inode:      ${record.nextLocalIno}`,
        "",
        "Delta log:",
        `  Offset:          ${hex(record.logOffset)}`,
        `  Used:            ${bytesAndKb(record.logSize)}`,
        `  Capacity:        ${bytesAndKb(record.logCapacity)}`,
        `  Usage:           ${percent(record.logSize, record.logCapacity)}`,
      ];
      if (counts.size > 0) {
        lines.push("", "Entries:");
        for (let type = DeltaType.WRITE; type <= DeltaType.UTIMES; type++) {
          const count = counts.get(deltaTypeName(type));
          if (count) lines.push(`  ${`${deltaTypeName(type)}:`.padEnd(10)}${count}`);
        }
      }
      if (parseError) lines.push("", `Log parse stopped: ${parseError}`);
      return lines;
    },
  );
}

/** `branches`: the branch tree with states, parents, log sizes and generations. */
export function branchesCommand(image: DaxfsImage, out: Output): void {
  const records = image.branches();
  const children = new Map<number, BranchRecord[]>();
  const ids = new Set(records.map((r) => r.id));
  for (const record of records) {
    const key = record.parentId !== 0 && ids.has(record.parentId) ? record.parentId : 0;
    children.set(key, [...(children.get(key) ?? []), record]);
  }
  const label = (r: BranchRecord) =>
    `${r.name === "" ? "(unnamed)" : r.name} [id ${r.id}] ${stateName(r.state)}, gen ${r.generation}, log ${r.logSize}/${r.logCapacity} bytes at ${hex(r.logOffset)}`;
  const lines: string[] = [];
  const visited = new Set<number>();
  // Explicit stack: the tree's depth is the image's to choose.
  const stack: { record: BranchRecord; prefix: string; last: boolean; root: boolean }[] = [];
  const roots = children.get(0) ?? [];
  for (let i = roots.length - 1; i >= 0; i--)
    stack.push({ record: roots[i]!, prefix: "", last: i === roots.length - 1, root: true });
  while (stack.length > 0) {
    const { record, prefix, last, root } = stack.pop()!;
    if (visited.has(record.id)) continue;
    visited.add(record.id);
    lines.push(root ? label(record) : `${prefix}${last ? "└── " : "├── "}${label(record)}`);
    const kids = children.get(record.id) ?? [];
    const childPrefix = root ? "" : `${prefix}${last ? "    " : "│   "}`;
    for (let i = kids.length - 1; i >= 0; i--)
      stack.push({ record: kids[i]!, prefix: childPrefix, last: i === kids.length - 1, root: false });
  }
  const unattached = records.filter((r) => !visited.has(r.id));
  if (unattached.length > 0)
    lines.push("Not reachable from a root (parent cycle):", ...unattached.map((r) => `  ${label(r)}`));
  if (records.length === 0)
    lines.push(
      image.branching ? "(no branches yet: main is created on first mount)" : "(static image: no branches)",
    );
  emit(
    out,
    {
      branches: records.map((r) => ({ ...r, stateName: stateName(r.state) })),
      unattached: unattached.map((r) => r.id),
    },
    () => lines,
  );
}
