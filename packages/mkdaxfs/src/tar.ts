// --tar input: one or more tar streams (e.g. `docker export`, or OCI image layers in order) merged
// into one build tree. The tree is laid out before any data is written and a multi-GiB layer never
// sits in memory: file bodies of an uncompressed tar file are referenced where they lie in it, those
// of stdin or a gzip stream are spooled to a temporary file. Layers after the first
// apply OCI whiteouts: `.wh.NAME` deletes NAME from the layers below, `.wh..wh..opq` empties the
// directory of everything the layers below put there.
import { createReadStream, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { createGunzip } from "node:zlib";
import {
  type BuildDir,
  type BuildFile,
  type BuildNode,
  type BuildSymlink,
  compileGlob,
  DaxfsError,
  NO_OWNER,
} from "@daxfs/core";
import { extract, type Header } from "tar-stream";

// An entry body: tar-stream's (streamx) readable, consumed by async iteration.
type Source = AsyncIterable<unknown>;

export interface TarOptions {
  allRoot?: boolean;
  exclude?: string[];
  strict?: boolean;
  onWarning?: (message: string) => void;
}

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";

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

function openInput(source: string): { stream: NodeJS.ReadableStream; direct: DirectSource | null } {
  if (source === "-") return { stream: process.stdin, direct: null };
  let fd: number;
  try {
    fd = openSync(source, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DaxfsError(
      code === "ENOENT" ? "ENOENT" : "EIO",
      `${source}: ${code === "ENOENT" ? "no such file or directory" : code}`,
    );
  }
  const magic = Buffer.alloc(2);
  readSync(fd, magic, 0, 2, 0);
  const stat = fstatSync(fd);
  const stream = createReadStream(source, { fd });
  if (magic[0] === 0x1f && magic[1] === 0x8b) return { stream: stream.pipe(createGunzip()), direct: null };
  const direct = stat.isFile()
    ? { path: source, scanned: { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs } }
    : null;
  return { stream, direct };
}

export class TarTreeBuilder {
  readonly root: BuildDir = { kind: "dir", mode: 0o755, uid: 0, gid: 0, children: new Map() };
  private readonly layerOf = new Map<BuildNode, number>();
  private readonly excluded: Array<(path: string) => boolean>;
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
    const { stream: input, direct } = openInput(source);
    this.direct = direct;
    const parser = extract();
    const done = new Promise<void>((resolve, reject) => {
      parser.on("entry", (header, body, next) => {
        this.addEntry(header, body, label).then(
          () => next(),
          (error) => {
            reject(error);
            parser.destroy();
          },
        );
      });
      parser.on("finish", resolve);
      parser.on("error", (error) =>
        reject(error instanceof DaxfsError ? error : new DaxfsError("EINVAL", `${label}: ${error.message}`)),
      );
      input.on("error", (error) => reject(new DaxfsError("EIO", `${label}: ${error.message}`)));
    });
    input.pipe(parser);
    await done;
  }

  private async addEntry(header: Header, body: Source, label: string): Promise<void> {
    const parts = splitMemberPath(header.name, label);
    const where = `${label}: ${header.name}`;
    const relative = parts.join("/");
    if (parts.length > 0 && this.excluded.some((matches) => matches(relative))) return drain(body);
    const name = parts.at(-1);
    const parent = this.directoryAt(parts.slice(0, -1), where);
    const owner = this.options.allRoot ? { uid: 0, gid: 0 } : { uid: header.uid ?? 0, gid: header.gid ?? 0 };
    const mode = (header.mode ?? 0o644) & 0o7777;

    if (name === OPAQUE_MARKER) {
      for (const [childName, child] of parent.children)
        if ((this.layerOf.get(child) ?? -1) < this.layer) parent.children.delete(childName);
      return drain(body);
    }
    if (name?.startsWith(WHITEOUT_PREFIX)) {
      const victim = parent.children.get(name.slice(WHITEOUT_PREFIX.length));
      if (victim && (this.layerOf.get(victim) ?? -1) < this.layer)
        parent.children.delete(name.slice(WHITEOUT_PREFIX.length));
      return drain(body);
    }

    // A tar header can carry (uid_t)-1, which lstat never returns: no one could own such a file and
    // the validator and the kernel refuse the image (NOTES.md "Validity"), so refuse it here, by member
    // (whiteouts, hard links and skipped device nodes store no owner of their own).
    const ownsInode = ["file", "contiguous-file", "directory", "symlink"].includes(header.type ?? "");
    for (const id of ["uid", "gid"] as const)
      if (ownsInode && owner[id] === NO_OWNER)
        throw new DaxfsError("EINVAL", `${where}: ${id} ${NO_OWNER} ((${id}_t)-1) is not a valid owner`);

    let node: BuildNode;
    switch (header.type) {
      case "directory": {
        if (name === undefined) {
          Object.assign(this.root, { mode, ...owner });
          return drain(body);
        }
        const existing = parent.children.get(name);
        if (existing?.kind === "dir") {
          Object.assign(existing, { mode, ...owner });
          this.layerOf.set(existing, this.layer);
          return drain(body);
        }
        node = { kind: "dir", mode, ...owner, children: new Map() };
        break;
      }
      case "file":
      case "contiguous-file":
        node = {
          kind: "file",
          mode,
          ...owner,
          size: header.size ?? 0,
          content: await this.keepBody(header, body, where),
        };
        break;
      case "symlink":
        node = {
          kind: "symlink",
          mode: 0o777,
          ...owner,
          target: header.linkname ?? "",
        } satisfies BuildSymlink;
        break;
      case "link": {
        const target = this.lookup(splitMemberPath(header.linkname ?? "", label));
        if (!target || target.kind === "dir")
          throw new DaxfsError("EINVAL", `${where}: hard link to missing ${JSON.stringify(header.linkname)}`);
        node = target;
        break;
      }
      default: {
        const kind = header.type ?? "unknown";
        if (this.options.strict)
          throw new DaxfsError("EPERM", `${where}: ${kind} cannot be stored in a DAXFS image`);
        this.options.onWarning?.(
          `skipping ${where}: ${kind} (DAXFS stores files, directories and symlinks only)`,
        );
        return drain(body);
      }
    }
    if (name === undefined) throw new DaxfsError("EINVAL", `${where}: the archive root must be a directory`);
    parent.children.set(name, node);
    if (!this.layerOf.has(node) || header.type !== "link") this.layerOf.set(node, this.layer);
    await drain(body);
  }

  /** The directory at `parts`, creating missing ones (0755, root-owned) as tar extraction does. */
  private directoryAt(parts: string[], where: string): BuildDir {
    let dir = this.root;
    for (const part of parts) {
      let next = dir.children.get(part);
      if (!next) {
        next = { kind: "dir", mode: 0o755, uid: 0, gid: 0, children: new Map() };
        dir.children.set(part, next);
        this.layerOf.set(next, this.layer);
      }
      if (next.kind !== "dir") throw new DaxfsError("ENOTDIR", `${where}: ${part} is not a directory`);
      dir = next;
    }
    return dir;
  }

  private lookup(parts: string[]): BuildNode | undefined {
    let node: BuildNode | undefined = this.root;
    for (const part of parts) node = node?.kind === "dir" ? node.children.get(part) : undefined;
    return node;
  }

  /**
   * A regular file's bytes: referenced in place in an uncompressed tar file (tar-stream's
   * `byteOffset` is where the body starts), else copied to the spool.
   */
  private async keepBody(header: Header, body: Source, where: string): Promise<BuildFile["content"]> {
    const size = header.size ?? 0;
    const byteOffset = (header as Header & { byteOffset?: number }).byteOffset;
    if (!this.direct || typeof byteOffset !== "number") return this.spoolBody(body, size, where);
    let seen = 0;
    for await (const chunk of body) seen += (chunk as Buffer).length;
    if (seen !== size) throw new DaxfsError("EIO", `${where}: truncated archive (${seen} of ${size} bytes)`);
    return { kind: "host", path: this.direct.path, offset: byteOffset, scanned: this.direct.scanned };
  }

  private async spoolBody(body: Source, size: number, where: string): Promise<BuildFile["content"]> {
    const offset = this.spoolEnd;
    let written = 0;
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      let done = 0;
      while (done < bytes.length)
        done += writeSync(this.spool.fd, bytes, done, bytes.length - done, offset + written + done);
      written += bytes.length;
    }
    if (written !== size)
      throw new DaxfsError("EIO", `${where}: truncated archive (${written} of ${size} bytes)`);
    this.spoolEnd += size;
    return { kind: "host", path: this.spool.path, offset };
  }
}

/** Consumes the rest of an entry's body so the parser moves on. */
async function drain(body: Source): Promise<void> {
  for await (const _ of body) {
    // Discarded: a directory, whiteout or skipped entry has no data we keep.
  }
}
