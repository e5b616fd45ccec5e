// Delta log checks (SPEC.md 1.5, OVERVIEW.md 4). Framing, types, minimum sizes, payload lengths and
// names are checked by the one decoder every reader uses (delta/entry.ts, decodeDeltaLog), and the
// inodes an entry needs by the replay rules every reader applies (delta/rules.ts), here over the
// inodes known along the branch's chain. This pass adds what needs the whole image: new inode
// numbers below the superblock's next_inode_id, SETATTR modes that keep the type, DELETE's inode,
// and the superblock feature bit an extension entry (LINK, UTIMES) needs.
// Logs are visited parents first, so each entry is checked once.
import { BranchState, DeltaType, SetattrValid } from "@daxfs/format";
import { type DeltaEntry, decodeDeltaLog, featureNames, featureOfType } from "../delta/entry.js";
import { checkEntryRules, createdFileType, type EntryTree } from "../delta/rules.js";
import { CorruptImageError } from "../errors.js";
import { fileTypeName } from "../file-type.js";
import type { ImageSource } from "../image-source.js";
import { hex, type ProblemLog } from "../problems.js";
import type { BaseFacts } from "./base.js";
import type { CheckedBranch } from "./branches.js";
import * as common from "./common.js";
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
  const created = new Map<number, { branch: number; type: number }[]>();
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
        `${where}@${hex(offset)}`,
        "entry",
        "a well-formed delta entry",
        "a malformed one",
        stripOffset(error.message),
      );
      continue;
    }
    decoded += entries.length;
    const chain = new Set(branch.chain);
    const tree: EntryTree = {
      /** Type bits of `ino` as seen from this branch, or undefined if unknown here. */
      typeOf: (ino: number): number | undefined => {
        if (ino <= base.inodeCount) return base.modes[ino] === 0 ? undefined : base.modes[ino]! & S_IFMT;
        for (const creator of created.get(ino) ?? []) if (chain.has(creator.branch)) return creator.type;
        return undefined;
      },
      baseInodes: base.inodeCount,
    };
    for (const entry of entries) {
      const at = `${where}@${hex(entry.offset)}`;
      const bad = (field: string, expected: string, actual: string, message: string) =>
        log.corrupt(entry.offset, at, field, expected, actual, `${DeltaType[entry.type]}: ${message}`);
      checkEntryRules(entry, tree, (p) => bad(p.field, p.expected, p.actual, p.message));
      // An extension entry needs its superblock feature bit (docs/semantics.md "Extensions").
      const feature = featureOfType(entry.type);
      if (feature !== 0 && (layout.superblock.flags & feature) === 0) {
        bad(
          "type",
          `a v5 entry type, or superblock feature ${featureNames(feature).join()} set`,
          DeltaType[entry.type] ?? String(entry.type),
          `extension entry in an image whose superblock does not announce ${featureNames(feature).join()}`,
        );
      }
      // What only the whole image tells: DELETE's informational ino, type-changing modes, the
      // inode high-water mark.
      if (entry.type === DeltaType.DELETE && tree.typeOf(entry.ino) === undefined) {
        bad(
          "ino",
          "a base inode or one created earlier in this branch chain",
          String(entry.ino),
          `inode ${entry.ino} does not exist`,
        );
      }
      if (entry.type === DeltaType.SETATTR && (entry.valid & SetattrValid.MODE) !== 0) {
        const type = entry.mode & S_IFMT;
        const current = tree.typeOf(entry.ino);
        if (current !== undefined && type !== 0 && type !== current) {
          bad(
            "mode",
            `type bits 0 or ${fileTypeName(current)}`,
            fileTypeName(type),
            "mode changes the file type",
          );
        }
      }
      const type = createdFileType(entry);
      if (type === null || !("newIno" in entry)) continue;
      if (BigInt(entry.newIno) >= nextInodeId) {
        bad(
          "new_ino",
          `${base.inodeCount + 1}..${nextInodeId - 1n} (above the base, below next_inode_id)`,
          String(entry.newIno),
          "new inode number out of range",
        );
        continue;
      }
      if (entry.newIno <= base.inodeCount || tree.typeOf(entry.newIno) !== undefined) continue;
      const creators = created.get(entry.newIno) ?? [];
      creators.push({ branch: branch.id, type });
      created.set(entry.newIno, creators);
    }
  }
  return decoded;
}

function stripOffset(message: string): string {
  return message.replace(/ \(at 0x[0-9a-f]+\)$/, "");
}
