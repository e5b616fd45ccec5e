// What a delta entry needs of the tree it applies to (docs/semantics.md "Replay rules"): the one
// statement of these rules. Replay (replay/chain-index.ts) throws on the first broken rule, the
// validator (validate/deltas.ts) reports every one and adds only what needs the whole image (new
// inode numbers below next_inode_id, SETATTR modes that would change the type).
import { DeltaType, FileType, SetattrValid } from "@daxfs/format";
import { fileTypeName, S_IFMT } from "../file-type.js";
import type { DeltaEntry } from "./types.js";

/** The tree as the entry's branch sees it just before the entry. */
export interface EntryTree {
  /** Type bits (S_IFMT) of inode `ino`, or undefined when the chain and the base do not know it. */
  typeOf(ino: number): number | undefined;
  /** Numbers 1..baseInodes are base slots: no entry may create one. */
  baseInodes: number;
}

/** One broken rule: the entry field, what it should be, what it is, and why it matters. */
export interface EntryRuleProblem {
  field: string;
  expected: string;
  actual: string;
  message: string;
}

/** The file type CREATE, MKDIR and SYMLINK make; null for other entries. */
export function createdFileType(entry: DeltaEntry): number | null {
  switch (entry.type) {
    case DeltaType.CREATE:
      return FileType.REGULAR;
    case DeltaType.MKDIR:
      return FileType.DIR;
    case DeltaType.SYMLINK:
      return FileType.SYMLINK;
    default:
      return null;
  }
}

/**
 * Checks `entry` against `tree`; calls `report` for each broken rule, in a fixed order, and
 * returns true when none is broken. A caller that throws from `report` stops at the first.
 */
export function checkEntryRules(
  entry: DeltaEntry,
  tree: EntryTree,
  report: (problem: EntryRuleProblem) => void,
): boolean {
  let ok = true;
  const bad = (field: string, expected: string, actual: string, message: string) => {
    ok = false;
    report({ field, expected, actual, message });
  };
  /** `ino` must be known (and of `type` when not null). */
  const needs = (field: string, what: string, ino: number, type: number | null): void => {
    const actual = tree.typeOf(ino);
    if (actual === undefined) {
      bad(
        field,
        "a base inode or one created earlier in this branch chain",
        String(ino),
        `${what} ${ino} does not exist`,
      );
    } else if (type !== null && actual !== type) {
      bad(field, fileTypeName(type), fileTypeName(actual), `${what} ${ino} is not a ${fileTypeName(type)}`);
    }
  };
  switch (entry.type) {
    case DeltaType.WRITE:
    case DeltaType.TRUNCATE:
      needs("ino", "inode", entry.ino, FileType.REGULAR);
      break;
    case DeltaType.SETATTR:
      needs("ino", "inode", entry.ino, (entry.valid & SetattrValid.SIZE) !== 0 ? FileType.REGULAR : null);
      break;
    case DeltaType.DELETE:
      needs("parent_ino", "parent directory", entry.parentIno, FileType.DIR);
      break;
    case DeltaType.UTIMES:
      needs("ino", "inode", entry.ino, null);
      break;
    case DeltaType.LINK: {
      // A directory never gains a second name (NOTES.md "Validity": named by exactly one entry).
      const type = tree.typeOf(entry.ino);
      if (type === FileType.DIR)
        bad("ino", "a regular file or symlink", fileTypeName(type), `inode ${entry.ino} is a directory`);
      else needs("ino", "linked inode", entry.ino, null);
      needs("parent_ino", "parent directory", entry.parentIno, FileType.DIR);
      break;
    }
    case DeltaType.RENAME:
      needs("ino", "renamed inode", entry.renamedIno, null);
      needs("old_parent_ino", "old parent directory", entry.oldParentIno, FileType.DIR);
      needs("new_parent_ino", "new parent directory", entry.newParentIno, FileType.DIR);
      break;
    case DeltaType.CREATE:
    case DeltaType.MKDIR:
    case DeltaType.SYMLINK: {
      const type = createdFileType(entry) as number;
      if (entry.type !== DeltaType.SYMLINK) {
        // Foreign logs may leave the type bits 0 (replay supplies them); others must agree.
        const recorded = entry.mode & S_IFMT;
        if (recorded !== 0 && recorded !== type)
          bad(
            "mode",
            fileTypeName(type),
            fileTypeName(recorded),
            `mode 0${entry.mode.toString(8)} has the wrong file type`,
          );
      }
      if (entry.newIno <= tree.baseInodes || tree.typeOf(entry.newIno) !== undefined) {
        bad(
          "new_ino",
          "a number not yet used in this branch chain",
          String(entry.newIno),
          `new inode ${entry.newIno} already exists`,
        );
      }
      needs("parent_ino", "parent directory", entry.parentIno, FileType.DIR);
      break;
    }
  }
  return ok;
}
