// One interface for every implementation the differential test drives, and the file side shared
// by those reached through a directory (a host tmpfs directory, a daxfs-fuse mount, a daxfs.ko
// mount in a guest): node:fs calls on the top branch's directory, three descriptor slots. How
// each one makes, commits and aborts branches is its own (BranchControl).

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import type { BuildDir } from "@daxfs/core";
import { errno } from "@daxfs/fuse-ref/testing";
import { mapFd, renameNoReplace } from "@daxfs/linux";
import { applyOp, type Op } from "../cross/ops.js";
import type { WalkEntry } from "../cross/walk.js";
import type { OpenFlags, Slot, Step } from "./steps.js";

/** What a sequence left: the top branch's tree, and the image the driver wrote (none for tmpfs). */
export interface SequenceEnd {
  walk: WalkEntry[];
  /** The image file's bytes after the sequence (the log this implementation wrote). */
  image?: Uint8Array;
  /** The top branch's name in `image`, for replaying its log elsewhere. */
  branch: string;
}

export interface Driver {
  readonly name: string;
  /**
   * Starts a sequence on `tree` with branch "t1", a child of main, as the top. `steps` are the
   * steps that will follow (a batch driver answers from a run it made beforehand).
   */
  start(tree: BuildDir, steps: Step[]): Promise<void>;
  /** For a driver that runs batches (the kernel in a guest): run these sequences now. */
  prepare?(sequences: Step[][]): Promise<void>;
  /** One step's outcome: "ok", "ok <value>", an errno name, or "skip" (not applicable here). */
  apply(step: Step): Promise<string>;
  end(): Promise<SequenceEnd>;
  /** Releases everything (mounts, processes, directories); safe to call twice. */
  close(): Promise<void>;
}

/** The tree every sequence starts from: test/cross/ops.ts seedTree(SEED_TREE_INDEX). */
export const SEED_TREE_INDEX = 0;

/** Every image's delta region: room for any generated sequence (each writes well under 1 MiB). */
export const DELTA_SIZE = 4 << 20;

/** Deepest chain below main the generator's child steps may build. */
export const MAX_DEPTH = 3;

/** The outcome of a read: its length and a short digest of the bytes. */
export function readOutcome(bytes: Uint8Array): string {
  return `ok ${bytes.length} ${createHash("sha256").update(bytes).digest("hex").slice(0, 12)}`;
}

export function openFlags(flags: OpenFlags): number {
  const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_APPEND, O_TRUNC, O_EXCL } = fs.constants;
  switch (flags) {
    case "r":
      return O_RDONLY;
    case "w":
      return O_WRONLY;
    case "rw":
      return O_RDWR;
    case "create":
      return O_RDWR | O_CREAT;
    case "append":
      return O_WRONLY | O_CREAT | O_APPEND;
    case "trunc":
      return O_RDWR | O_TRUNC;
    case "excl":
      return O_RDWR | O_CREAT | O_EXCL;
  }
}

/** The mode new files get from open(O_CREAT) in every driver (not touched by a 022 umask). */
export const CREATE_MODE = 0o644;

/** File steps through node:fs under a directory that can change (the top branch's mount). */
export class FsFiles {
  private fds: (number | null)[] = [null, null, null];

  constructor(private readonly root: () => string) {}

  private slot(slot: Slot): number {
    const fd = this.fds[slot];
    if (fd === null || fd === undefined) throw Object.assign(new Error("slot not open"), { code: "EBADF" });
    return fd;
  }

  /** Closes every descriptor (before branch steps: the chain's mounts change under them). */
  closeAll(): void {
    for (const [i, fd] of this.fds.entries()) {
      if (fd !== null) errno(() => fs.closeSync(fd));
      this.fds[i] = null;
    }
  }

  apply(step: Step): string {
    let value = "";
    const code = errno(() => {
      value = this.call(step);
    });
    return code === "no error" ? (value ? `ok ${value}` : "ok") : code;
  }

  private call(step: Step): string {
    const at = (p: string) => join(this.root(), p);
    switch (step.kind) {
      case "open": {
        const old = this.fds[step.slot];
        if (old !== null && old !== undefined) fs.closeSync(old);
        this.fds[step.slot] = null;
        this.fds[step.slot] = fs.openSync(at(step.path), openFlags(step.flags), CREATE_MODE);
        return "";
      }
      case "close": {
        fs.closeSync(this.slot(step.slot));
        this.fds[step.slot] = null;
        return "";
      }
      case "fwrite": {
        const fd = this.slot(step.slot);
        let done = 0;
        while (done < step.data.length)
          done += fs.writeSync(fd, step.data, done, step.data.length - done, step.offset + done);
        return "";
      }
      case "fread": {
        const buffer = new Uint8Array(step.length);
        const n = fs.readSync(this.slot(step.slot), buffer, 0, step.length, step.offset);
        return readOutcome(buffer.subarray(0, n)).slice(3);
      }
      case "ftruncate":
        fs.ftruncateSync(this.slot(step.slot), step.size);
        return "";
      case "fsync":
        fs.fsyncSync(this.slot(step.slot));
        return "";
      case "read":
        return readOutcome(fs.readFileSync(at(step.path))).slice(3);
      case "mmapWrite":
        return String(
          withMapping(at(step.path), true, (bytes) => {
            const n = Math.max(0, Math.min(step.data.length, bytes.length - step.offset));
            if (n > 0) bytes.set(step.data.subarray(0, n), step.offset);
            return n;
          }),
        );
      case "mmapRead":
        return withMapping(at(step.path), false, (bytes) =>
          readOutcome(bytes.slice(Math.min(step.offset, bytes.length), step.offset + step.length)).slice(3),
        );
      case "renameNoreplace":
        renameNoReplace(at(step.from), at(step.to));
        return "";
      default: {
        const outcome = applyOp(this.root(), step as Op);
        if (outcome !== "ok") throw Object.assign(new Error(outcome), { code: outcome });
        return "";
      }
    }
  }
}

/**
 * Opens `path` (O_RDWR or O_RDONLY), maps the whole file MAP_SHARED and runs `use` on the mapped
 * bytes; a writable mapping is msynced before it goes, so the stores are in the file (and logged)
 * when the step returns. An empty file is not mapped (mmap of 0 bytes is EINVAL); a directory is,
 * one page, so the kernel answers its ENODEV.
 */
function withMapping<T>(path: string, writable: boolean, use: (bytes: Uint8Array) => T): T {
  const fd = fs.openSync(path, writable ? fs.constants.O_RDWR : fs.constants.O_RDONLY);
  try {
    const stat = fs.fstatSync(fd);
    const map = mapFd(fd, stat.isDirectory() ? 4096 : stat.size, { writable, path });
    try {
      const result = use(map.bytes);
      map.flush();
      return result;
    } finally {
      map.close();
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** siblingWrite through a directory: pwrite of "a" (O_CREAT) in the sibling's tree. */
export function siblingWrite(root: string, data: Uint8Array): string {
  const code = errno(() => {
    const fd = fs.openSync(join(root, "a"), fs.constants.O_WRONLY | fs.constants.O_CREAT, CREATE_MODE);
    try {
      fs.writeSync(fd, data, 0, data.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  });
  return code === "no error" ? "ok" : code;
}

/** Branch names every driver uses, so the logs of one can be replayed by name in another. */
export class BranchNames {
  private count = 0;
  next(prefix: "t" | "s"): string {
    this.count += 1;
    return `${prefix}${this.count}`;
  }
}
