// The image model as a writer: @daxfs/core's lifecycle (createBranch/commitBranch/abortBranch)
// and POSIX rules (BranchFiles) applied directly to an image in memory, with what the VFS does
// before a filesystem sees a call done here: symlinks followed, open(2) flags, O_APPEND placing
// every write at the end, chown clearing set-user-ID/set-group-ID (chown_common's ATTR_KILL_SUID).
import {
  abortBranch,
  type BranchContext,
  BranchFiles,
  type BranchView,
  BranchWriter,
  type BuildDir,
  branchContext,
  buildImage,
  commitBranch,
  createBranch,
  DaxfsError,
  DaxfsImage,
  dropBranch,
  ensureMain,
  fileTypeOf,
  findBranch,
  MAIN_BRANCH,
  MemoryImage,
  RENAME_NOREPLACE,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
} from "@daxfs/core";
import { modelWalk } from "../cross/walk.js";
import {
  BranchNames,
  CREATE_MODE,
  DELTA_SIZE,
  type Driver,
  MAX_DEPTH,
  readOutcome,
  type SequenceEnd,
} from "./driver.js";
import type { OpenFlags, Step } from "./steps.js";

/** A deliberately wrong rule, to prove the tool finds and shrinks a divergence (difftest.test.ts). */
export type PlantedBug = "append-at-offset";

interface Level {
  name: string;
  view: BranchView;
  files: BranchFiles;
}

interface OpenFile {
  ino: number;
  read: boolean;
  write: boolean;
  append: boolean;
}

const OWNER = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const fail = (code: string, what: string): never => {
  throw new DaxfsError(code as never, what);
};

function errnoOf(body: () => void): void {
  try {
    body();
  } catch (error) {
    if (!(error instanceof DaxfsError)) throw error;
  }
}

function level(ctx: BranchContext, source: MemoryImage, name: string, parent: string): Level {
  const record = createBranch(ctx, name, parent);
  const view = DaxfsImage.open(source).view(name);
  return { name, view, files: new BranchFiles(view, BranchWriter.forRecord(ctx, record)) };
}

export class ModelDriver implements Driver {
  readonly name = "model";
  private bytes: Uint8Array = new Uint8Array(0);
  private source!: MemoryImage;
  private ctx!: BranchContext;
  private chain: Level[] = [];
  private sibling: Level | null = null;
  /** A commit moved main since the sibling was made (the switch step skips a stale sibling). */
  private siblingStale = false;
  private fds: (OpenFile | null)[] = [null, null, null];
  private names = new BranchNames();

  constructor(private readonly planted: PlantedBug | null = null) {}

  async start(tree: BuildDir, _steps?: Step[]): Promise<void> {
    this.bytes = buildImage(tree, { branching: true, deltaSize: DELTA_SIZE });
    this.source = new MemoryImage(this.bytes, true);
    this.ctx = branchContext(this.source);
    ensureMain(this.ctx);
    this.names = new BranchNames();
    this.sibling = null;
    this.siblingStale = false;
    this.fds = [null, null, null];
    this.chain = [level(this.ctx, this.source, this.names.next("t"), MAIN_BRANCH)];
  }

  private get top(): Level {
    return this.chain[this.chain.length - 1] as Level;
  }

  async apply(step: Step): Promise<string> {
    let value = "";
    try {
      value = this.call(step);
    } catch (error) {
      if (error instanceof DaxfsError) return error.code;
      throw error;
    }
    return value === "skip" ? value : value ? `ok ${value}` : "ok";
  }

  async end(): Promise<SequenceEnd> {
    return { walk: modelWalk(this.bytes, this.top.name), image: this.bytes.slice(), branch: this.top.name };
  }

  async close(): Promise<void> {
    this.chain = [];
  }

  // ---- path resolution as the VFS does it (symlinks followed, 40 at most) ----

  /** The path of `path` with symlinks in its directories (and its last name, if `follow`) replaced. */
  private canonical(view: BranchView, path: string, follow: boolean): string {
    const pending = path.split("/").filter((c) => c !== "");
    const done: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const name = pending.shift() as string;
      const last = pending.length === 0;
      const parent = done.length === 0 ? view.rootIno : view.resolve(`/${done.join("/")}`);
      if (fileTypeOf(view.stat(parent).mode) !== S_IFDIR) fail("ENOTDIR", `/${done.join("/")}`);
      let ino: number | undefined;
      try {
        ino = view.lookup(parent, name);
      } catch (error) {
        if (!(error instanceof DaxfsError && error.code === "ENOENT")) throw error;
      }
      if (ino === undefined) {
        if (!last) fail("ENOENT", path);
        done.push(name);
        break;
      }
      const mode = view.stat(ino).mode;
      if (fileTypeOf(mode) === S_IFLNK && (follow || !last)) {
        if (++links > 40) fail("ELOOP", path);
        const target = view.readlink(ino);
        if (target.startsWith("/")) fail("EXDEV", `${path}: absolute symlink leaves the tree`);
        pending.unshift(...target.split("/").filter((c) => c !== ""));
        continue;
      }
      done.push(name);
    }
    return `/${done.join("/")}`;
  }

  private ino(path: string, follow = true): number {
    const view = this.top.view;
    return view.resolve(this.canonical(view, path, follow));
  }

  private file(slot: number): OpenFile {
    return this.fds[slot] ?? fail("EBADF", `slot ${slot}`);
  }

  private open(path: string, flags: OpenFlags, on: Level = this.top): OpenFile {
    const { view, files } = on;
    const create = flags === "create" || flags === "append" || flags === "excl";
    const read =
      flags === "r" || flags === "rw" || flags === "create" || flags === "trunc" || flags === "excl";
    const write = flags !== "r";
    if (flags === "excl") {
      // O_EXCL: never follows a symlink in the last name, any existing name is EEXIST.
      const at = this.canonical(view, path, false);
      const ino = files.create(at, CREATE_MODE, OWNER);
      return { ino, read, write, append: false };
    }
    const at = this.canonical(view, path, true);
    let ino: number;
    try {
      ino = view.resolve(at);
    } catch (error) {
      if (!(create && error instanceof DaxfsError && error.code === "ENOENT")) throw error;
      ino = files.create(at, CREATE_MODE, OWNER);
      return { ino, read, write, append: flags === "append" };
    }
    if (write && fileTypeOf(view.stat(ino).mode) === S_IFDIR) fail("EISDIR", path);
    if (flags === "trunc") files.truncate(ino, 0, path);
    return { ino, read, write, append: flags === "append" };
  }

  private write(file: OpenFile, offset: number, data: Uint8Array, on: Level = this.top): void {
    if (!file.write) fail("EBADF", "not open for writing");
    const at = file.append && this.planted !== "append-at-offset" ? on.view.stat(file.ino).size : offset;
    on.files.write(file.ino, at, data);
  }

  private read(file: OpenFile, offset: number, length: number): string {
    if (!file.read) fail("EBADF", "not open for reading");
    if (fileTypeOf(this.top.view.stat(file.ino).mode) === S_IFDIR) fail("EISDIR", "read of a directory");
    return readOutcome(this.top.view.read(file.ino, offset, length)).slice(3);
  }

  /** chown(2) on a non-directory drops S_ISUID, and S_ISGID when group-executable (notify_change). */
  private chown(path: string, uid: number, gid: number, follow: boolean): void {
    const view = this.top.view;
    const at = this.canonical(view, path, follow);
    const mode = view.stat(view.resolve(at)).mode;
    if (fileTypeOf(mode) !== S_IFDIR) {
      let kept = mode & ~0o4000;
      if ((mode & 0o2010) === 0o2010) kept &= ~0o2000;
      if (kept !== mode) this.top.files.chmod(at, kept & 0o7777);
    }
    this.top.files.chown(at, uid, gid);
  }

  private call(step: Step): string {
    const top = this.top;
    top.view.refresh();
    const files = top.files;
    const view = top.view;
    switch (step.kind) {
      case "open":
        this.fds[step.slot] = null;
        this.fds[step.slot] = this.open(step.path, step.flags);
        return "";
      case "close":
        this.file(step.slot);
        this.fds[step.slot] = null;
        return "";
      case "fwrite":
        this.write(this.file(step.slot), step.offset, step.data);
        return "";
      case "fread":
        return this.read(this.file(step.slot), step.offset, step.length);
      case "ftruncate": {
        const file = this.file(step.slot);
        if (!file.write) fail("EINVAL", "ftruncate of a descriptor not open for writing");
        files.truncate(file.ino, step.size, `slot ${step.slot}`);
        return "";
      }
      case "fsync":
        this.file(step.slot);
        return "";
      case "read":
        return this.read(this.open(step.path, "r"), 0, Number.MAX_SAFE_INTEGER);
      case "mmapWrite": {
        // A shared mapping's stores reach the file as a write of the bytes inside it (msync).
        const file = this.open(step.path, "rw");
        const n = Math.max(0, Math.min(step.data.length, view.stat(file.ino).size - step.offset));
        if (n > 0) this.write(file, step.offset, step.data.subarray(0, n));
        return String(n);
      }
      case "mmapRead": {
        const file = this.open(step.path, "r");
        if (fileTypeOf(view.stat(file.ino).mode) === S_IFDIR) fail("ENODEV", "mmap of a directory");
        const size = view.stat(file.ino).size;
        return this.read(
          file,
          Math.min(step.offset, size),
          Math.max(0, Math.min(step.length, size - step.offset)),
        );
      }
      case "write": {
        const file = this.open(step.path, "create");
        files.truncate(file.ino, 0, step.path);
        this.write(file, 0, step.data);
        return "";
      }
      case "pwrite": {
        const file = this.open(step.path, "create");
        this.write({ ...file, write: true, append: false }, step.offset, step.data);
        return "";
      }
      case "append":
        this.write(this.open(step.path, "append"), 0, step.data);
        return "";
      case "truncate": {
        const ino = this.ino(step.path);
        if (fileTypeOf(view.stat(ino).mode) !== S_IFREG && fileTypeOf(view.stat(ino).mode) !== S_IFDIR)
          fail("EINVAL", step.path);
        files.truncate(ino, step.size, step.path);
        return "";
      }
      case "mkdir":
        files.mkdir(this.canonical(view, step.path, false), step.mode, OWNER);
        return "";
      case "rmdir":
        files.rmdir(this.canonical(view, step.path, false));
        return "";
      case "unlink":
        files.unlink(this.canonical(view, step.path, false));
        return "";
      case "rename":
        files.rename(this.canonical(view, step.from, false), this.canonical(view, step.to, false));
        return "";
      case "renameNoreplace":
        files.rename(
          this.canonical(view, step.from, false),
          this.canonical(view, step.to, false),
          RENAME_NOREPLACE,
        );
        return "";
      case "symlink":
        files.symlink(step.target, this.canonical(view, step.path, false), OWNER);
        return "";
      case "link": {
        // link(2) does not follow a symlink named last (Linux linkat without AT_SYMLINK_FOLLOW),
        // and looks the source up whole before the new name's directory (do_linkat).
        const from = this.canonical(view, step.from, false);
        view.resolve(from);
        files.link(from, this.canonical(view, step.to, false));
        return "";
      }
      case "chmod":
        files.chmod(this.canonical(view, step.path, true), step.mode);
        return "";
      case "chown":
        this.chown(step.path, step.uid, step.gid, true);
        return "";
      case "lchown":
        this.chown(step.path, step.uid, step.gid, false);
        return "";
      default:
        return this.branchStep(step);
    }
  }

  private branchStep(step: Step): string {
    switch (step.kind) {
      case "child":
        if (this.chain.length >= MAX_DEPTH) return "skip";
        this.fds = [null, null, null];
        this.chain.push(level(this.ctx, this.source, this.names.next("t"), this.top.name));
        return "";
      case "commit":
      case "abort": {
        this.fds = [null, null, null];
        const id = this.top.view.branch?.id as number;
        if (step.kind === "commit") {
          commitBranch(this.ctx, id);
          this.siblingStale = true;
        } else abortBranch(this.ctx, id);
        this.chain = [level(this.ctx, this.source, this.names.next("t"), MAIN_BRANCH)];
        return "";
      }
      case "sibling":
        // The FUSE and kernel drivers unmount the old sibling, which drops it (or it is already stale).
        if (this.sibling?.view.branch)
          errnoOf(() => dropBranch(this.ctx, this.sibling?.view.branch?.id as number));
        this.sibling = level(this.ctx, this.source, this.names.next("s"), MAIN_BRANCH);
        this.siblingStale = false;
        return "";
      case "siblingWrite": {
        const sibling = this.sibling;
        if (!sibling) return "skip";
        sibling.view.refresh();
        // As the directory drivers do it: open("a", O_WRONLY|O_CREAT) (symlinks followed), pwrite at 0.
        this.write({ ...this.open("a", "create", sibling), append: false }, 0, step.data, sibling);
        return "";
      }
      case "unmount":
        // Unmount drops the top level (lifecycle.ts dropBranch, as daxfs-fuse and daxfs.ko do).
        this.fds = [null, null, null];
        dropBranch(this.ctx, this.top.view.branch?.id as number);
        this.chain.pop();
        if (this.chain.length === 0)
          this.chain = [level(this.ctx, this.source, this.names.next("t"), MAIN_BRANCH)];
        return "";
      case "remount": {
        // A new view and writer of the same branch: the model reads the branch anew from the image.
        this.fds = [null, null, null];
        const name = this.top.name;
        const view = DaxfsImage.open(this.source).view(name);
        const writer = BranchWriter.forRecord(this.ctx, findBranch(this.ctx, name));
        this.chain[this.chain.length - 1] = { name, view, files: new BranchFiles(view, writer) };
        return "";
      }
      case "switch": {
        if (!this.sibling || this.siblingStale || this.chain.length !== 1) return "skip";
        this.fds = [null, null, null];
        const top = this.top;
        this.chain = [this.sibling];
        this.sibling = top;
        return "";
      }
      default:
        throw new Error(`model driver: unknown step ${JSON.stringify(step)}`);
    }
  }
}
