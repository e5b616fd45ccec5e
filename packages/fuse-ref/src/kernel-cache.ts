// Kernel caching of names and attributes on a main mount (docs/fuse.md "Caching"). Main changes
// only when a branch is committed into it, so its mount lets the kernel keep lookups, attributes and
// negative lookups for MAIN_CACHE_SECONDS instead of asking daxfs-fuse (through libfuse and the hop
// to JavaScript) for every path component of every call. When the tree's version moves (a commit:
// main's log end changes), the kernel's root attributes and every root name it may hold are
// invalidated; invalidating a name drops that dentry and every unused dentry below it, so the
// whole cached tree goes with a few calls. libfuse 2's high-level API knows no other node id than
// the root's, which is why the invalidation works from the root down.
import { encodeName } from "@daxfs/core";
import type { BranchFs } from "./branch-fs.js";

/** How long the kernel keeps main's names and attributes (bounds what an in-use inode may miss). */
export const MAIN_CACHE_SECONDS = 60;

/** A lookup answered just before a commit may reach the kernel just after the invalidation. */
const SECOND_PASS_MS = 100;

/** libfuse options: the kernel may cache names, attributes and missing names for `seconds`. */
export function cacheTimeouts(seconds: number): string {
  return `entry_timeout=${seconds},attr_timeout=${seconds},negative_timeout=${seconds}`;
}

/** Drops the kernel's root attributes and these root names (0, or a negative errno). */
export type InvalidateRoot = (names: Uint8Array[]) => Promise<number>;

/** What a main mount's caches are dropped through (the patched binding, mount.ts). */
export interface CacheControl {
  invalidateRoot: InvalidateRoot;
  /** Empties the binding's cache (answered on libfuse's thread, before the kernel asks). */
  clearStats(): void;
  /** Turns the binding's cache off for good (before the image is unmapped). */
  off(): void;
}

export class KernelCache {
  private version: string;
  /** The root's names as of `version`: the kernel may hold dentries for them. */
  private names: Set<string>;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly fs: BranchFs,
    private readonly control: CacheControl,
    private readonly log: (message: string) => void,
  ) {
    this.version = fs.treeVersion();
    this.names = new Set(fs.rootNames());
  }

  /** Invalidates the kernel's cache if main changed since the last check; resolves when done. */
  check(): Promise<void> {
    this.queue = this.queue.then(() => this.checkNow());
    return this.queue;
  }

  close(): void {
    this.closed = true;
    this.control.off();
  }

  private async checkNow(): Promise<void> {
    if (this.closed) return;
    let version: string;
    let now: Set<string>;
    try {
      version = this.fs.treeVersion();
      if (version === this.version) return;
      now = new Set(this.fs.rootNames());
    } catch {
      return; // the view cannot be read now (ESTALE...): every request answers that error itself
    }
    const names = [...new Set([...this.names, ...now])].map((name) => encodeName(name));
    this.version = version;
    this.names = now;
    // Ours first: the lookups the kernel sends after its invalidation must find nothing stale.
    this.control.clearStats();
    await this.invalidate(names);
    setTimeout(() => {
      if (!this.closed) void this.invalidate(names);
    }, SECOND_PASS_MS).unref();
  }

  private async invalidate(names: Uint8Array[]): Promise<void> {
    const res = await this.control.invalidateRoot(names);
    if (res < 0) this.log(`daxfs-fuse: the kernel refused a cache invalidation (errno ${-res})`);
  }
}
