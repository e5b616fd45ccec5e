// The validator's promise, as a check the fuzzer and the CLI tests can run: an image that validate
// accepts can be opened, every live branch walked, and every file, symlink and directory read
// through the image model without an error.
import { BranchState, FileType } from "@daxfs/format";
import { S_IFMT } from "../file-type.js";
import { DaxfsImage } from "../image.js";
import type { ImageSource } from "../image-source.js";

/** Files are read in full up to this size; past it, the head and the tail (sparse sizes are legal). */
const READ_IN_FULL = 16 << 20;
const CHUNK = 1 << 20;

export function walkAndReadAll(
  source: ImageSource,
  backing?: ImageSource,
): { views: number; inodes: number; bytes: number } {
  const image = DaxfsImage.open(source, backing ? { backing } : {});
  let inodes = 0;
  let bytes = 0;
  try {
    const names = image
      .branches()
      .filter((b) => b.state === BranchState.ACTIVE && b.name !== "" && b.name !== "main")
      .map((b) => b.name);
    const views = [image.view(), ...names.map((name) => image.view(name))];
    for (const view of views) {
      for (const { ino, stat } of view.walk()) {
        inodes++;
        switch (stat.mode & S_IFMT) {
          case FileType.DIR:
            view.readdir(ino);
            break;
          case FileType.SYMLINK:
            view.readlink(ino);
            break;
          default: {
            const readRange = (from: number, to: number) => {
              for (let at = from; at < to; at += CHUNK) {
                const length = Math.min(CHUNK, to - at);
                const got = view.read(ino, at, length);
                if (got.length !== length)
                  throw new Error(`inode ${ino}: read ${got.length} of ${length} bytes at ${at}`);
                bytes += got.length;
              }
            };
            if (stat.size <= READ_IN_FULL) {
              readRange(0, stat.size);
            } else {
              readRange(0, CHUNK);
              readRange(stat.size - CHUNK, stat.size);
            }
          }
        }
      }
    }
    return { views: views.length, inodes, bytes };
  } finally {
    image.close();
  }
}
