// --tar input: one or more tar streams (e.g. `docker export`, or OCI image layers in order) merged
// into one build tree. The tree is laid out before any data is written and a multi-GiB layer never
// sits in memory: file bodies of an uncompressed tar file are referenced where they lie in it, those
// of stdin, a compressed stream or a sparse member are spooled to a temporary file (a sparse member
// expanded there with its holes left as holes). Members are parsed by tar-reader.ts.
//
// Layers after the first apply OCI whiteouts (image-spec layer.md) to the layers BELOW only, whatever
// their position in the layer: `.wh.NAME` deletes NAME of the lower layers, `.wh..wh..opq` empties
// the directory of everything the lower layers put there. Every directory entry remembers the layer
// that last set it, so a whiteout listed after the same layer re-created the path still removes
// only the lower layers' content under it.
import {
  closeSync,
  createReadStream,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import {
  type BuildDir,
  type BuildFile,
  type BuildNode,
  compileGlob,
  DaxfsError,
  hostError,
  hostPath,
  NO_OWNER,
  showName,
  storedMtime,
} from "@daxfs/core";
import { type ByteSource, FileBytes, StreamBytes } from "./tar-bytes.js";
import { compressionOf, layerBytes, refuseUnreadCompression } from "./tar-decompress.js";
import { type TarMember, TarReader } from "./tar-reader.js";

export interface TarOptions {
  allRoot?: boolean;
  /** As for a directory (docs/mkdaxfs.md "Times"): store no mtimes, or clamp them (ns). */
  zeroTimes?: boolean;
  clampTime?: bigint;
  exclude?: string[];
  strict?: boolean;
  onWarning?: (message: string) => void;
  /** A member kept in the tree carries extended attributes (which an image cannot hold). */
  onXattrs?: (where: string, names: string[]) => void;
}

const WHITEOUT_PREFIX = ".wh.";
/** A member the image cannot hold (device node, FIFO): remembered so a hard link to it is skipped too. */
interface Unstorable {
  kind: "special";
  type: string;
}
const OPAQUE_MARKER = ".wh..wh..opq";
const RESERVED_PREFIX = ".wh..wh.";

/** Splits a member name into components; refuses absolute escapes ("..") rather than guess. */
function splitMemberPath(name: string, label: string): string[] {
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes(".."))
    throw new DaxfsError("EINVAL", `${label}: member ${JSON.stringify(name)} contains '..'`);
  return parts;
}

/** Where entry bodies can be read back from without a spool: an uncompressed tar file. */
interface DirectSource {
  path: string;
  scanned: { ino: number; size: number; mtimeMs: number };
}

/**
 * The layer's bytes: a plain uncompressed file is read at positions (its bodies are referenced in
 * place, `direct`), anything else as a stream, decompressed by magic number.
 */
function openInput(
  source: string,
  label: string,
): { bytes: ByteSource; direct: DirectSource | null; close: () => void } {
  if (source === "-")
    return { bytes: new StreamBytes(layerBytes(process.stdin, label), label), direct: null, close: () => {} };
  let fd: number;
  try {
    fd = openSync(hostPath(source), "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DaxfsError(
      code === "ENOENT" ? "ENOENT" : "EIO",
      `${source}: ${code === "ENOENT" ? "no such file or directory" : code}`,
    );
  }
  const stat = fstatSync(fd);
  if (stat.isDirectory()) {
    closeSync(fd);
    throw new DaxfsError("EISDIR", `${source}: is a directory, not a tar archive`);
  }
  // Only a regular file can be read at positions; a pipe (`--tar <(zcat layer.gz)`, /dev/stdin) or
  // a character device is read through as a stream, its magic number seen by layerBytes.
  if (stat.isFile()) {
    // A whole block: a tar header is told apart from a magic number by its checksum (compressionOf).
    const head = Buffer.alloc(512);
    const got = readSync(fd, head, 0, head.length, 0);
    try {
      refuseUnreadCompression(head.subarray(0, got), label);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    if (compressionOf(head.subarray(0, got)) === undefined) {
      const direct = { path: source, scanned: { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs } };
      return { bytes: new FileBytes(fd, stat.size, label), direct, close: () => closeSync(fd) };
    }
  }
  // The stream owns the descriptor from here and closes it at its end.
  const stream = createReadStream(source, { fd });
  return {
    bytes: new StreamBytes(layerBytes(stream, label), label),
    direct: null,
    close: () => stream.destroy(),
  };
}

/** The words -d's scan uses for the same types (core build/scan.ts), so both warn alike. */
const SPECIAL_MEMBER_WORDS: Record<string, string> = {
  "character-device": "character device",
  "block-device": "block device",
  fifo: "FIFO",
};

export class TarTreeBuilder {
  readonly root: BuildDir = { kind: "dir", mode: 0o755, uid: 0, gid: 0, children: new Map() };
  /** The layer that last set each directory entry (whiteouts remove lower layers' entries only). */
  private readonly entryLayer = new WeakMap<BuildDir, Map<string, number>>();
  private readonly excluded: Array<(path: string) => boolean>;
  /** Members not in the tree, by path: excluded ones (a hard link may name them) and skipped special files. */
  private readonly unstored = new Map<string, BuildNode | Unstorable>();
  /** The extended attribute names of each inode read so far, for the hard links to it. */
  private readonly xattrsOf = new WeakMap<BuildNode, string[]>();
  private spoolEnd = 0;
  private direct: DirectSource | null = null;
  private layer = -1;

  constructor(
    /** Open file descriptor of the spool, and its path for the writer to read back. */
    private readonly spool: { fd: number; path: string },
    private readonly options: TarOptions = {},
  ) {
    this.excluded = (options.exclude ?? []).map(compileGlob);
  }

  /** Reads one layer; layers must be added bottom first. */
  async addLayer(source: string): Promise<void> {
    this.layer++;
    const label = source === "-" ? "(stdin)" : source;
    const { bytes, direct, close } = openInput(source, label);
    this.direct = direct;
    const reader = new TarReader(bytes, label);
    try {
      for (let member = await reader.next(); member; member = await reader.next())
        await this.addMember(member, reader, label);
    } catch (error) {
      if (error instanceof DaxfsError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new DaxfsError("EIO", `${label}: ${code ?? (error as Error).message}`);
    } finally {
      close();
    }
  }

  private setEntry(parent: BuildDir, name: string, node: BuildNode): void {
    parent.children.set(name, node);
    let layers = this.entryLayer.get(parent);
    if (!layers) {
      layers = new Map();
      this.entryLayer.set(parent, layers);
    }
    layers.set(name, this.layer);
  }

  private layerOfEntry(parent: BuildDir, name: string): number {
    return this.entryLayer.get(parent)?.get(name) ?? -1;
  }

  /**
   * Removes from `dir` everything the lower layers put there: their entries go, and a directory this
   * layer set again keeps only what this layer put in it.
   */
  private hideLowerLayers(dir: BuildDir): void {
    for (const [name, child] of dir.children) {
      if (this.layerOfEntry(dir, name) < this.layer) dir.children.delete(name);
      else if (child.kind === "dir") this.hideLowerLayers(child);
    }
  }

  /** Whether the member or a directory above it is excluded (its members go with it, as with -d). */
  private isExcluded(parts: string[]): boolean {
    if (this.excluded.length === 0) return false;
    for (let depth = 1; depth <= parts.length; depth++) {
      const path = parts.slice(0, depth).join("/");
      if (this.excluded.some((matches) => matches(path))) return true;
    }
    return false;
  }

  private async addMember(member: TarMember, reader: TarReader, label: string): Promise<void> {
    const parts = splitMemberPath(member.name, label);
    const where = `${label}: ${showName(member.name)}`;
    const name = parts.at(-1);
    if (name === OPAQUE_MARKER || name?.startsWith(WHITEOUT_PREFIX)) {
      if (!this.isExcluded(parts)) this.applyWhiteout(parts.slice(0, -1), name);
      return;
    }
    // An excluded member leaves no trace in the tree, but a later hard link may still name it (as
    // with -d, where the other names of an excluded file keep it). So does one under a directory
    // named with the reserved prefix `.wh..wh.` (image-spec layer.md): AUFS layers keep hard-link
    // targets in `.wh..wh.plnk/`, which moby's UnpackLayer reads the same way and never extracts.
    const excluded =
      parts.length > 0 &&
      (this.isExcluded(parts) || parts.slice(0, -1).some((part) => part.startsWith(RESERVED_PREFIX)));
    const parent = excluded ? null : this.directoryAt(parts.slice(0, -1), where);
    const owner = this.options.allRoot ? { uid: 0, gid: 0 } : { uid: member.uid, gid: member.gid };
    const mode = member.mode & 0o7777;
    const mtime = storedMtime(member.mtime, this.options);

    // A tar header can carry (uid_t)-1, which lstat never returns: no one could own such a file and
    // the validator and the kernel refuse the image (NOTES.md "Validity"), so refuse it here, by member
    // (whiteouts, hard links and skipped device nodes store no owner of their own).
    const ownsInode = !excluded && ["file", "directory", "symlink"].includes(member.type);
    // An id past 32 bits (PAX records and base-256 fields can carry any) is no Linux id either.
    for (const id of ["uid", "gid"] as const) {
      if (ownsInode && owner[id] === NO_OWNER)
        throw new DaxfsError("EINVAL", `${where}: ${id} ${NO_OWNER} ((${id}_t)-1) is not a valid owner`);
      if (ownsInode && owner[id] > NO_OWNER)
        throw new DaxfsError("EINVAL", `${where}: ${id} ${owner[id]} does not fit 32 bits`);
    }

    // A directory's extended attributes are its own (no hard link can name it); other inodes' below.
    if (member.type === "directory" && !excluded && member.xattrs.length > 0)
      this.options.onXattrs?.(where, member.xattrs);

    let node: BuildNode | Unstorable;
    switch (member.type) {
      case "directory": {
        if (!parent) return;
        if (name === undefined) {
          Object.assign(this.root, { mode, ...owner, mtime });
          return;
        }
        const existing = parent.children.get(name);
        if (existing?.kind === "dir") {
          Object.assign(existing, { mode, ...owner, mtime });
          this.setEntry(parent, name, existing);
          return;
        }
        node = { kind: "dir", mode, ...owner, mtime, children: new Map() };
        break;
      }
      case "file":
        node = {
          kind: "file",
          mode,
          ...owner,
          size: member.size,
          mtime,
          content: await this.keepBody(member, reader),
        };
        break;
      case "symlink":
        node = { kind: "symlink", mode: 0o777, ...owner, mtime, target: member.linkname };
        break;
      case "link": {
        const targetParts = splitMemberPath(member.linkname, label);
        const target = this.lookup(targetParts) ?? this.unstored.get(targetParts.join("/"));
        if (!target)
          throw new DaxfsError("EINVAL", `${where}: hard link to missing "${showName(member.linkname)}"`);
        if (target.kind === "dir")
          throw new DaxfsError(
            "EINVAL",
            `${where}: hard link to directory "${showName(member.linkname)}" (directories cannot be hard-linked)`,
          );
        node = target;
        break;
      }
      default:
        node = { kind: "special", type: member.type };
    }
    if (node.kind !== "special" && node.kind !== "dir") {
      // Extended attributes belong to the inode: a hard link counts them once more, as -d counts
      // every name of a file (a link member's own records, if a writer gave it any, add to them).
      const names = [...new Set([...(this.xattrsOf.get(node) ?? []), ...member.xattrs])];
      if (names.length > 0) this.xattrsOf.set(node, names);
      if (!excluded && names.length > 0) this.options.onXattrs?.(where, names);
    }
    if (!parent) {
      this.unstored.set(parts.join("/"), node);
      return;
    }
    if (name === undefined) throw new DaxfsError("EINVAL", `${where}: the archive root must be a directory`);
    if (node.kind === "special") {
      // Skipped, and still the later member of its path: what an earlier member put there goes (a
      // hard link to it later is skipped too: it names the same device node or FIFO).
      const kind = SPECIAL_MEMBER_WORDS[node.type] ?? node.type;
      if (this.options.strict)
        throw new DaxfsError("EPERM", `${where}: ${kind} cannot be stored in a DAXFS image`);
      this.options.onWarning?.(
        `skipping ${where}: ${member.type === "link" ? `hard link to a ${kind}` : kind} (DAXFS stores files, directories and symlinks only)`,
      );
      parent.children.delete(name);
      this.unstored.set(parts.join("/"), node);
      return;
    }
    this.setEntry(parent, name, node);
  }

  /**
   * An OCI whiteout (`.wh.NAME`) or opaque marker (`.wh..wh..opq`) in the directory at `dirParts`.
   * It removes what the lower layers put there and creates nothing: a whiteout under a directory
   * no layer has is a no-op, and it does not make a lower directory on its path this layer's.
   */
  private applyWhiteout(dirParts: string[], name: string): void {
    const parent = this.lookup(dirParts, true);
    if (parent?.kind !== "dir") return;
    if (name === OPAQUE_MARKER) {
      this.hideLowerLayers(parent);
      return;
    }
    const victimName = name.slice(WHITEOUT_PREFIX.length);
    const victim = parent.children.get(victimName);
    if (!victim) return;
    if (this.layerOfEntry(parent, victimName) < this.layer) parent.children.delete(victimName);
    // This layer already re-created the path: the whiteout still removes what lay below it.
    else if (victim.kind === "dir") this.hideLowerLayers(victim);
  }

  /**
   * The directory at `parts`, creating missing ones (0755, root-owned) as tar extraction does. A
   * symlink on the way is followed inside the image, as GNU tar extracts through a symlink an earlier
   * member made and container runtimes apply a layer over a merged-/usr base (`lib/x` lands in
   * `usr/lib/x`): resolved as in a chroot (an absolute target starts at the image root, '..' stops
   * there), so no member ever lands outside the image. The symlink's target must be a directory of
   * the image: none is made up for it. A lower layer's directory on the way counts as this layer's
   * too (this layer has a member in it), so a whiteout or opaque marker of this layer keeps what
   * this layer put there.
   */
  private directoryAt(parts: string[], where: string): BuildDir {
    const path = [this.root];
    for (const part of parts) {
      const dir = path.at(-1) as BuildDir;
      let next = dir.children.get(part);
      if (!next) {
        next = { kind: "dir", mode: 0o755, uid: 0, gid: 0, children: new Map() };
        this.setEntry(dir, part, next);
      } else if (this.layer > 0 && next.kind === "dir" && this.layerOfEntry(dir, part) < this.layer) {
        this.setEntry(dir, part, next);
      }
      if (next.kind === "symlink") {
        const target = this.followSymlink(path, next.target, 0);
        if (typeof target === "string")
          throw new DaxfsError(
            target === "loop" ? "ELOOP" : "ENOTDIR",
            `${where}: ${part} is a symlink to ${showName(next.target)}, ${target === "loop" ? "a loop" : "not a directory of the image"}`,
          );
        path.splice(0, path.length, ...target);
        continue;
      }
      if (next.kind !== "dir") throw new DaxfsError("ENOTDIR", `${where}: ${part} is not a directory`);
      path.push(next);
    }
    return path.at(-1) as BuildDir;
  }

  /**
   * The directories from the root down to what a symlink in the directory `from` (the root down to
   * it) leads to, creating nothing; "missing" if it leads to no directory, "loop" past 40 symlinks
   * (Linux's MAXSYMLINKS).
   */
  private followSymlink(from: BuildDir[], target: string, hops: number): BuildDir[] | "missing" | "loop" {
    if (hops >= 40) return "loop";
    const path = target.startsWith("/") ? [this.root] : [...from];
    for (const part of target.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (path.length > 1) path.pop();
        continue;
      }
      const next = (path.at(-1) as BuildDir).children.get(part);
      if (next?.kind === "dir") path.push(next);
      else if (next?.kind === "symlink") {
        const inner = this.followSymlink(path, next.target, hops + 1);
        if (typeof inner === "string") return inner;
        path.splice(0, path.length, ...inner);
      } else return "missing";
    }
    return path;
  }

  /**
   * The node at `parts`, following symlinks on the way, creating nothing; a symlink as the last
   * component is followed only for `directory` (a hard link names the symlink itself).
   */
  private lookup(parts: string[], directory = false): BuildNode | undefined {
    let path = [this.root];
    for (const [i, part] of parts.entries()) {
      const node = (path.at(-1) as BuildDir).children.get(part);
      if (node === undefined || (i === parts.length - 1 && !(directory && node.kind === "symlink")))
        return node;
      if (node.kind === "dir") path.push(node);
      else if (node.kind === "symlink") {
        const target = this.followSymlink(path, node.target, 0);
        if (typeof target === "string") return undefined;
        path = target;
      } else return undefined;
    }
    return path.at(-1);
  }

  /**
   * A regular file's bytes: referenced in place in an uncompressed tar file (the reader skips them;
   * the writer copies them from the file), else copied to the spool, a sparse member expanded with
   * its holes left as holes of the spool.
   */
  private async keepBody(member: TarMember, reader: TarReader): Promise<BuildFile["content"]> {
    if (this.direct && !member.sparse)
      return {
        kind: "host",
        path: this.direct.path,
        offset: member.dataOffset,
        scanned: this.direct.scanned,
      };
    const base = this.spoolEnd;
    const segments = member.sparse ?? [{ offset: 0, length: member.size }];
    let segment = 0;
    let within = 0;
    for await (const chunk of reader.body()) {
      let done = 0;
      while (done < chunk.length) {
        // The reader checked that the segments' lengths sum to the stored bytes.
        while (within === segments[segment]!.length) {
          segment++;
          within = 0;
        }
        const { offset, length } = segments[segment]!;
        const n = Math.min(chunk.length - done, length - within);
        const at = base + offset + within;
        this.onSpool(() => {
          for (let written = 0; written < n; )
            written += writeSync(this.spool.fd, chunk, done + written, n - written, at + written);
        });
        done += n;
        within += n;
      }
    }
    // A trailing hole: the spool must still reach the file's end for the writer to read it.
    if (member.sparse && fstatSync(this.spool.fd).size < base + member.size)
      this.onSpool(() => ftruncateSync(this.spool.fd, base + member.size));
    this.spoolEnd += member.size;
    return { kind: "host", path: this.spool.path, offset: base };
  }

  /** A write to the spool; its failure is $TMPDIR's file system (full, quota), not the archive's. */
  private onSpool(write: () => void): void {
    try {
      write();
    } catch (error) {
      const tmpdir = dirname(dirname(this.spool.path));
      const { code, message } = hostError(error, tmpdir);
      throw new DaxfsError(code, `${message} (TMPDIR, where tar input is spooled)`);
    }
  }
}
