// Where the inspected image comes from (SPEC.md 2.12): an image file, a mounted DAXFS (-m: the
// kernel mount's dma-buf through DAXFS_IOC_GET_DMABUF, or the image file behind a daxfs-fuse
// mount), or physical memory (-p ADDR -s SIZE through /dev/mem). Every source is read-only.
import { closeSync, existsSync, openSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import {
  DaxfsError,
  FileImage,
  type ImageSource,
  MemoryImage,
  parseSize,
  requirePath,
  requireSize,
  systemError,
  UsageError,
} from "@daxfs/core";

// Loaded only for -m and -p, so reading an image file never loads the native syscall layer.
type Linux = typeof import("@daxfs/linux");
const loadLinux = (): Promise<Linux> => import("@daxfs/linux");

export interface SourceOptions {
  image?: string;
  mount?: string;
  phys?: string;
  size?: string;
}

function wrapMapped(bytes: Uint8Array, name: string, close: () => void): ImageSource {
  const image = new MemoryImage(bytes, false, name);
  const originalClose = image.close.bind(image);
  image.close = () => {
    originalClose();
    close();
  };
  return image;
}

function syscallMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function openMount(path: string): Promise<ImageSource> {
  const { closeFd, getDmabufFd, mapFd, mountOption, readMounts, SyscallError } = await loadLinux();
  // Resolve the parent only: touching the mount root itself would ask the filesystem (a hung or
  // same-process FUSE server would block us); the mount table is all we need.
  const absolute = resolve(path);
  let real: string;
  try {
    real = absolute === "/" ? "/" : join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    throw new DaxfsError("ENOENT", `${path}: no such file or directory`);
  }
  // The last entry for a mount point is the one on top (findMount would realpath the root itself).
  const mount = readMounts()
    .filter((m) => m.mountPoint === real)
    .at(-1);
  if (!mount) {
    // No mount there, so no server to hang on: a path that does not exist is said as such.
    if (!existsSync(absolute)) throw new DaxfsError("ENOENT", `${path}: no such file or directory`);
    throw new DaxfsError("EINVAL", `${path}: not a daxfs mount point`);
  }
  if (mount.fstype === "fuse.daxfs") return FileImage.open(mount.source);
  if (mount.fstype !== "daxfs")
    throw new DaxfsError("EINVAL", `${path}: not a daxfs mount (type ${mount.fstype})`);
  const sizeOption = mountOption(mount.superOptions, "size");
  if (!sizeOption) throw new DaxfsError("EINVAL", `${path}: the mount shows no size= option`);
  let fd: number;
  try {
    fd = getDmabufFd(real);
  } catch (error) {
    // A phys= mount (ENOENT, SPEC.md 3.13) shows its range in the mount table: read it through
    // /dev/mem as -p/-s would, where the public tool stops with its hint (docs/inspect.md).
    const phys = mountOption(mount.superOptions, "phys");
    if (error instanceof SyscallError && error.code === "ENOENT" && phys) {
      return openPhys(phys, sizeOption).catch((physError: unknown) => {
        throw new DaxfsError(
          "EINVAL",
          `${path} is not a dma-buf backed mount and its phys=${phys} range cannot be read (${syscallMessage(physError)}); -p/-s need root`,
        );
      });
    }
    if (error instanceof SyscallError && (error.code === "ENOENT" || error.code === "ENOTTY")) {
      throw new DaxfsError(
        "EINVAL",
        `${path} is not a dma-buf backed mount; use -p/-s for phys-based mounts (requires root)`,
      );
    }
    throw new DaxfsError("EIO", `${path}: ${syscallMessage(error)}`);
  }
  try {
    const mapped = mapFd(fd, requireSize(sizeOption, `${path}: size= mount option`), {
      writable: false,
      path: real,
    });
    return wrapMapped(mapped.bytes, `${path} (dma-buf)`, () => {
      mapped.close();
      closeFd(fd);
    });
  } catch (error) {
    closeFd(fd);
    throw new DaxfsError("EIO", `${path}: ${syscallMessage(error)}`);
  }
}

async function openPhys(phys: string, size: string): Promise<ImageSource> {
  // An address, in the words mkdaxfs uses for its -p ("invalid address"), with inspect's SIZE grammar;
  // both checked before the Linux bindings load.
  const offset = parseSize(phys);
  if (offset === null) throw new UsageError(`-p/--phys: invalid address '${phys}'`);
  const length = requireSize(size, "-s/--size");
  if (length === 0) throw new UsageError("-s/--size: 0 bytes hold no image");
  const { mapFd } = await loadLinux();
  let fd: number;
  try {
    fd = openSync("/dev/mem", "r");
  } catch (error) {
    // "/dev/mem: no such file or directory", "/dev/mem: permission denied": the system's words.
    throw systemError(error, "/dev/mem");
  }
  try {
    const mapped = mapFd(fd, length, { writable: false, offset, path: "/dev/mem" });
    return wrapMapped(mapped.bytes, `/dev/mem@0x${offset.toString(16)}`, () => {
      mapped.close();
      closeSync(fd);
    });
  } catch (error) {
    closeSync(fd);
    throw new DaxfsError("EIO", `/dev/mem at 0x${offset.toString(16)}: ${syscallMessage(error)}`);
  }
}

/** Exactly one source (SPEC.md 2.12): an image file, -m, or -p with -s. */
export async function openSource(options: SourceOptions): Promise<ImageSource> {
  const given = [options.image !== undefined, options.mount !== undefined, options.phys !== undefined].filter(
    Boolean,
  ).length;
  if (options.size !== undefined && options.phys === undefined)
    throw new UsageError("-s/--size: only valid with -p/--phys");
  // `daxfs-inspect tree img` takes img for the path: say where the image goes.
  if (given === 0)
    throw new UsageError(
      "IMAGE: an image file, -m/--mount or -p/--phys is required (the image comes first: daxfs-inspect IMAGE COMMAND ...)",
    );
  if (given > 1) throw new UsageError("IMAGE: give only one of an image file, -m/--mount and -p/--phys");
  requirePath(options.image, "IMAGE");
  requirePath(options.mount, "-m/--mount");
  if (options.image !== undefined) return FileImage.open(options.image);
  if (options.mount !== undefined) return openMount(options.mount);
  if (options.size === undefined)
    throw new UsageError("-s/--size is required with -p/--phys", { verbatim: true });
  return openPhys(options.phys!, options.size);
}
