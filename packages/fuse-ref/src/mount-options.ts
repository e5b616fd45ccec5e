// `daxfs-fuse -o LIST` (docs/fuse.md "Mount options"): the libfuse 2 options fuse-native can carry
// are passed through as given; anything else is refused with one line before the image is touched.
// fsname, subtype and the caching options daxfs-fuse sets itself (mount.ts) are not user options.
import { DaxfsError } from "@daxfs/core";

/** Options without a value: the kernel's mount flags and libfuse's own switches. */
const FLAGS = new Set([
  "allow_other",
  "allow_root",
  "auto_unmount",
  "default_permissions",
  "ro",
  "rw",
  "nosuid",
  "suid",
  "nodev",
  "dev",
  "noexec",
  "exec",
  "noatime",
  "atime",
  "relatime",
  "norelatime",
  "strictatime",
  "sync",
  "async",
  "dirsync",
  "kernel_cache",
  "auto_cache",
  "noforget",
  "hard_remove",
  "direct_io",
  "large_read",
  "intr",
]);

/** Options with a value, and what the value must look like. */
const VALUED: Record<string, RegExp> = {
  uid: /^\d+$/,
  gid: /^\d+$/,
  umask: /^[0-7]{1,4}$/,
  max_read: /^\d+$/,
  max_readahead: /^\d+$/,
  blksize: /^\d+$/,
  entry_timeout: /^\d+(\.\d+)?$/,
  attr_timeout: /^\d+(\.\d+)?$/,
  negative_timeout: /^\d+(\.\d+)?$/,
  ac_attr_timeout: /^\d+(\.\d+)?$/,
  remember: /^-?\d+$/,
  intr_signal: /^\d+$/,
};

/**
 * The options of every `-o` given (comma-separated lists), checked. `writable` is false when the
 * mount serves main (or a read-only image): then `ro` is added, so statfs and /proc/mounts say so,
 * and `rw` is refused.
 */
export function parseMountOptions(lists: string[], writable: boolean): string[] {
  const options: string[] = [];
  for (const item of lists.flatMap((list) => list.split(","))) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    const name = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0 ? !FLAGS.has(name) : !(name in VALUED)) {
      const hint = FLAGS.has(name) ? " (takes no value)" : name in VALUED ? " (needs a value)" : "";
      throw new DaxfsError("EINVAL", `unknown mount option "${item}"${hint}`);
    }
    if (eq >= 0 && !(VALUED[name] as RegExp).test(item.slice(eq + 1)))
      throw new DaxfsError("EINVAL", `mount option "${item}": bad value`);
    if (name === "rw" && !writable) throw new DaxfsError("EROFS", 'mount option "rw": main is read-only');
    if (!options.includes(item)) options.push(item);
  }
  if (!writable && !options.includes("ro")) options.push("ro");
  return options;
}
