// fuse-native's compiled addon itself (node-gyp-build loads the patched build/Release/fuse.node
// before the shipped prebuild), for what fuse-native's JavaScript does not pass on: the patch's
// markers (daxfs_utimens_fixed) and its cache invalidation call (daxfs_invalidate_root).
import { createRequire } from "node:module";
import { dirname } from "node:path";

export interface FuseNativeBinding {
  daxfs_utimens_fixed?: number;
  /** patches/fuse-native@2.2.6.patch: drops the kernel's root attributes and these root names. */
  daxfs_invalidate_root?: (thread: Buffer, names: Buffer[], done: (res: number) => void) => void;
  /** The mount's stat cache on libfuse's thread: emptied, then on (1) or off (0). */
  daxfs_stat_cache?: (thread: Buffer, on: number) => void;
  /** The image mapping that data offsets point into (null: none). */
  daxfs_set_image?: (thread: Buffer, image: Buffer | null) => void;
  /** A directory's listing: names, stats (statInts), symlink targets, data offsets (-1: none). */
  daxfs_dir_put?: (
    thread: Buffer,
    dir: Buffer,
    names: Buffer[],
    stats: Uint32Array[],
    targets: (Buffer | null)[],
    offsets: number[],
  ) => void;
}

let binding: FuseNativeBinding | null | undefined;

/** The loaded addon, or null when it cannot be found. */
export function fuseNativeBinding(): FuseNativeBinding | null {
  if (binding === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const dir = dirname(require.resolve("fuse-native/package.json"));
      const load = createRequire(`${dir}/index.js`)("node-gyp-build") as (dir: string) => FuseNativeBinding;
      binding = load(dir);
    } catch {
      binding = null;
    }
  }
  return binding;
}
