// Writes that tests make in a branch through the real writer: the entries a user's `echo > file`
// leaves (CREATE of a 0644 root-owned file, then one WRITE of its bytes).
import { DeltaType } from "@daxfs/format";
import type { BranchWriter } from "../branch/writer.js";

/**
 * The writer's two calls this needs. Structural, so tests that import `@daxfs/core` (built
 * declarations) and this subpath (sources) can pass their BranchWriter.
 */
type EntryWriter = Pick<BranchWriter, "allocateIno" | "append">;

/** Appends a new regular file `name` in directory `parentIno` holding `data`; returns its inode. */
export function appendNewFile(writer: EntryWriter, name: string, data: Uint8Array, parentIno = 1): number {
  const ino = writer.allocateIno();
  writer.append({
    type: DeltaType.CREATE,
    ino,
    parentIno,
    newIno: ino,
    mode: 0o100644,
    uid: 0,
    gid: 0,
    name,
  });
  writer.append({ type: DeltaType.WRITE, ino, fileOffset: 0, data });
  return ino;
}
