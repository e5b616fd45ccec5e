/**
 * /proc/self/mountinfo, parsed (proc(5)): one record per mount, with the kernel's octal escapes (\040 for a
 * space, \011, \012, \134) decoded in paths and options.
 */
import { readFileSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fromNodeError } from "./errors.js";

export interface MountInfo {
  mountId: number;
  parentId: number;
  /** "MAJOR:MINOR" of the superblock's device. */
  device: string;
  /** Root of the mount inside its filesystem ("/" unless a bind mount of a subtree). */
  root: string;
  mountPoint: string;
  /** Per-mount options: rw|ro, nosuid, nodev, noexec, relatime... */
  mountOptions: string[];
  /** Propagation tags (shared:N, master:N, ...). */
  optionalFields: string[];
  /** Filesystem type, with a FUSE subtype as "fuse.SUBTYPE". */
  fstype: string;
  /** Mount source: the device, the image path for FUSE, "none". */
  source: string;
  /** Superblock options, as the filesystem's show_options prints them (daxfs: phys=, size=, branch=...). */
  superOptions: string[];
}

/** Decodes the kernel's \ooo escapes (mangle() in fs/proc_namespace.c). */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Options split on commas (seq_show_option() escapes a comma inside a value, so it cannot split one). */
function splitOptions(field: string): string[] {
  return field === "" ? [] : field.split(",").map(unescapeMountField);
}

/** Parses mountinfo text. Malformed lines are skipped: the file is the kernel's, not user input. */
export function parseMountInfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const fields = line.split(" ");
    const separator = fields.indexOf("-", 6);
    if (fields.length < 10 || separator < 0 || fields.length < separator + 4) continue;
    mounts.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      device: fields[2] as string,
      root: unescapeMountField(fields[3] as string),
      mountPoint: unescapeMountField(fields[4] as string),
      mountOptions: splitOptions(fields[5] as string),
      optionalFields: fields.slice(6, separator),
      fstype: unescapeMountField(fields[separator + 1] as string),
      source: unescapeMountField(fields[separator + 2] as string),
      superOptions: splitOptions(fields[separator + 3] as string),
    });
  }
  return mounts;
}

export function readMounts(path = "/proc/self/mountinfo"): MountInfo[] {
  try {
    return parseMountInfo(readFileSync(path, "utf8"));
  } catch (err) {
    throw fromNodeError(err, "open", path);
  }
}

/** The value of `key=` in an option list, "" for a bare `key`, undefined when absent. */
export function mountOption(options: readonly string[], key: string): string | undefined {
  for (const option of options) {
    if (option === key) return "";
    if (option.startsWith(`${key}=`)) return option.slice(key.length + 1);
  }
  return undefined;
}

/** Writable iff neither the mount nor its superblock is read-only (what /proc/mounts' rw shows). */
export function isWritableMount(mount: MountInfo): boolean {
  return mount.mountOptions.includes("rw") && !mount.superOptions.includes("ro");
}

/**
 * The mount whose mount point is `path` after resolving symlinks; when several are stacked there, the top one
 * (listed last). Undefined if `path` is not a mount point (or its directory does not exist).
 */
export function findMount(path: string, mounts: readonly MountInfo[] = readMounts()): MountInfo | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    // A mount root that answers stat with an error (a daxfs branch invalidated by a commit: ESTALE) is still a
    // mount point: resolve its parent and keep the last component.
    const absolute = resolve(path);
    try {
      if (absolute === "/") return undefined;
      real = join(realpathSync(dirname(absolute)), basename(absolute));
    } catch {
      return undefined;
    }
  }
  let found: MountInfo | undefined;
  for (const mount of mounts) if (mount.mountPoint === real) found = mount;
  return found;
}
