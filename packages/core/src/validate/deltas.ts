// Delta log checks (SPEC.md 1.5, OVERVIEW.md 4). Framing, types, minimum sizes, payload lengths and
// names are checked by the one decoder every reader uses (delta/entry.ts, decodeDeltaLog); this
// pass adds what needs the whole image: every inode number an entry speaks of is a base inode or
// was created earlier along the branch's chain, below the superblock's next_inode_id, and of the
// type the operation needs. Logs are visited parents first, so each entry is checked once.
import { BranchState, DeltaType, FileType } from "@daxfs/format";
import { type DeltaEntry, decodeDeltaLog } from "../delta/entry.js";
import { CorruptImageError } from "../errors.js";
import type { ImageSource } from "../image-source.js";
import type { BaseFacts } from "./base.js";
import type { CheckedBranch } from "./branches.js";
import * as common from "./common.js";
import type { ProblemLog } from "./problems.js";
import type { ImageLayout } from "./regions.js";

// A module local: under CJS interop (tsx) each read of an imported binding is a getter call.
const { S_IFMT } = common;

/** Checks the logs of every live branch; returns the number of entries decoded. */
export function checkDeltaLogs(
  source: ImageSource,
  layout: ImageLayout,
  branches: CheckedBranch[],
  base: BaseFacts,
  log: ProblemLog,
): number {
  const delta = layout.delta;
  if (!delta) return 0;
  const nextInodeId = layout.superblock.nextInodeId;
  // Inode numbers created by logs: number -> [branch id, mode type] of each creator (siblings may reuse numbers).
  const created = new Map<number, { branch: bigint; type: number }[]>();
  const live = branches.filter((b) => b.state === BranchState.ACTIVE && b.logUsable && b.chain.length > 0);
  live.sort((a, b) => a.chain.length - b.chain.length);
  let decoded = 0;
  for (const branch of live) {
    const where = `delta ${branch.name || `id ${branch.id}`}`;
    let entries: DeltaEntry[];
    try {
      entries = decodeDeltaLog(source, branch.logOffset, branch.logSize, {
        offset: delta.offset,
        size: delta.size,
      });
    } catch (error) {
      if (!(error instanceof CorruptImageError)) throw error;
      const offset = error.offset ?? branch.logOffset;
      log.corrupt(
        offset,
        `${where}@${offset}`,
        "entry",
        "a well-formed delta entry",
        "a malformed one",
        stripOffset(error.message),
      );
      continue;
    }
    decoded += entries.length;
    const chain = new Set(branch.chain);
    /** Type bits of `ino` as seen from this branch, or undefined if unknown here. */
    const typeOf = (ino: number): number | undefined => {
      if (ino <= base.inodeCount) return base.modes[ino] === 0 ? undefined : base.modes[ino]! & S_IFMT;
      for (const creator of created.get(ino) ?? []) if (chain.has(creator.branch)) return creator.type;
      return undefined;
    };
    for (const entry of entries) {
      const at = `${where}@${entry.offset}`;
      const bad = (field: string, expected: string, actual: string, message: string) =>
        log.corrupt(entry.offset, at, field, expected, actual, `${DeltaType[entry.type]}: ${message}`);
      const needs = (field: string, ino: number, type: number | null) => {
        const actual = typeOf(ino);
        if (actual === undefined) {
          bad(
            field,
            "a base inode or one created earlier in this branch chain",
            String(ino),
            `unknown inode ${ino}`,
          );
          return false;
        }
        if (type !== null && actual !== type) {
          bad(field, typeName(type), typeName(actual), `inode ${ino} has the wrong type`);
          return false;
        }
        return true;
      };
      switch (entry.type) {
        case DeltaType.WRITE:
        case DeltaType.TRUNCATE:
          needs("ino", entry.ino, FileType.REGULAR);
          break;
        case DeltaType.SETATTR: {
          if (!needs("ino", entry.ino, null)) break;
          const type = entry.mode & S_IFMT;
          if ((entry.valid & 1) !== 0 && type !== 0 && type !== typeOf(entry.ino)) {
            bad(
              "mode",
              `type bits 0 or ${typeName(typeOf(entry.ino)!)}`,
              typeName(type),
              "mode changes the file type",
            );
          }
          break;
        }
        case DeltaType.DELETE:
          needs("parent_ino", entry.parentIno, FileType.DIR);
          needs("ino", entry.ino, null);
          break;
        case DeltaType.RENAME:
          needs("old_parent_ino", entry.oldParentIno, FileType.DIR);
          needs("new_parent_ino", entry.newParentIno, FileType.DIR);
          needs("ino", entry.renamedIno, null);
          break;
        case DeltaType.CREATE:
        case DeltaType.MKDIR:
        case DeltaType.SYMLINK: {
          needs("parent_ino", entry.parentIno, FileType.DIR);
          const type =
            entry.type === DeltaType.CREATE
              ? FileType.REGULAR
              : entry.type === DeltaType.MKDIR
                ? FileType.DIR
                : FileType.SYMLINK;
          if (entry.type !== DeltaType.SYMLINK) {
            // Foreign logs may leave the type bits 0 (replay supplies them); others must agree.
            const recorded = entry.mode & S_IFMT;
            if (recorded !== 0 && recorded !== type)
              bad("mode", typeName(type), typeName(recorded), "mode type disagrees with the entry type");
          }
          if (entry.newIno <= base.inodeCount || BigInt(entry.newIno) >= nextInodeId) {
            bad(
              "new_ino",
              `${base.inodeCount + 1}..${nextInodeId - 1n} (above the base, below next_inode_id)`,
              String(entry.newIno),
              "new inode number out of range",
            );
            break;
          }
          if (typeOf(entry.newIno) !== undefined) {
            bad(
              "new_ino",
              "a number not yet used in this branch chain",
              String(entry.newIno),
              "inode number created twice",
            );
            break;
          }
          const creators = created.get(entry.newIno) ?? [];
          creators.push({ branch: branch.id, type });
          created.set(entry.newIno, creators);
          break;
        }
      }
    }
  }
  return decoded;
}

function typeName(type: number): string {
  return type === FileType.REGULAR
    ? "regular file"
    : type === FileType.DIR
      ? "directory"
      : type === FileType.SYMLINK
        ? "symlink"
        : `type 0x${type.toString(16)}`;
}

function stripOffset(message: string): string {
  return message.replace(/ \(at byte \d+\)$/, "");
}
