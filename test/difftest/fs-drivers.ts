// Drivers reached through a directory: a host tmpfs directory (the POSIX reference for file
// steps; its branches are copies, `cp -a`, and its sibling turns stale when main moves, which is
// SPEC 3.10's rule stated once here) and daxfs-fuse branch mounts (one process per chain level,
// commit/abort through the control channel).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BuildDir, buildImage } from "@daxfs/core";
import { controlRequest, controlSocketPath } from "@daxfs/fuse-ref";
import { FuseHarness, isMounted, type RunningMount } from "@daxfs/fuse-ref/testing";
import { materialize } from "../cross/ops.js";
import { fsWalk } from "../cross/walk.js";
import {
  BranchNames,
  DELTA_SIZE,
  type Driver,
  FsFiles,
  MAX_DEPTH,
  type SequenceEnd,
  siblingWrite,
} from "./driver.js";
import { BRANCH_KINDS, type Step } from "./steps.js";

function copyTree(from: string, to: string): void {
  const result = spawnSync("cp", ["-a", from, to], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`cp -a ${from} ${to}: ${result.stderr}`);
}

export class HostDriver implements Driver {
  readonly name = "tmpfs";
  private readonly dir = mkdtempSync(join(process.env.DAXFS_DIFFTEST_TMP ?? "/dev/shm", "daxfs-difftest-"));
  private main = "";
  private chain: { name: string; root: string }[] = [];
  private sibling: { name: string; root: string; stale: boolean } | null = null;
  private names = new BranchNames();
  private readonly files = new FsFiles(() => this.top.root);

  private get top() {
    return this.chain[this.chain.length - 1] as { name: string; root: string };
  }

  private branch(prefix: "t" | "s"): { name: string; root: string } {
    const name = this.names.next(prefix);
    const root = join(this.dir, name);
    copyTree(prefix === "t" && this.chain.length > 0 ? this.top.root : this.main, root);
    return { name, root };
  }

  async start(tree: BuildDir): Promise<void> {
    await this.close();
    this.main = join(this.dir, "main");
    materialize(tree, this.main);
    this.names = new BranchNames();
    this.sibling = null;
    this.chain = [];
    this.chain = [this.branch("t")];
  }

  async apply(step: Step): Promise<string> {
    if (!BRANCH_KINDS.has(step.kind)) return this.files.apply(step);
    switch (step.kind) {
      case "child":
        if (this.chain.length >= MAX_DEPTH) return "skip";
        this.files.closeAll();
        this.chain.push(this.branch("t"));
        return "ok";
      case "commit":
      case "abort": {
        this.files.closeAll();
        if (step.kind === "commit") {
          rmSync(this.main, { recursive: true });
          copyTree(this.top.root, this.main);
          if (this.sibling) this.sibling.stale = true;
        }
        for (const level of this.chain) rmSync(level.root, { recursive: true, force: true });
        this.chain = [];
        this.chain = [this.branch("t")];
        return "ok";
      }
      case "sibling":
        this.sibling = { ...this.branch("s"), stale: false };
        return "ok";
      case "siblingWrite":
        if (!this.sibling) return "skip";
        return this.sibling.stale ? "ESTALE" : siblingWrite(this.sibling.root, step.data);
      case "unmount":
        this.files.closeAll();
        rmSync(this.top.root, { recursive: true, force: true });
        this.chain.pop();
        if (this.chain.length === 0) this.chain = [this.branch("t")];
        return "ok";
      case "remount":
        this.files.closeAll();
        return "ok";
      case "switch": {
        if (!this.sibling || this.sibling.stale || this.chain.length !== 1) return "skip";
        this.files.closeAll();
        const top = this.top;
        this.chain = [{ name: this.sibling.name, root: this.sibling.root }];
        this.sibling = { ...top, stale: false };
        return "ok";
      }
      default:
        throw new Error(`tmpfs driver: unknown step ${step.kind}`);
    }
  }

  async end(): Promise<SequenceEnd> {
    return { walk: fsWalk(this.top.root), branch: this.top.name };
  }

  async close(): Promise<void> {
    this.files.closeAll();
    for (const name of readdirSync(this.dir)) rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  /** Removes the driver's directory itself (close keeps it for the next sequence). */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A file step on a daxfs-fuse mount. A RENAME_NOREPLACE the host kernel answered EINVAL (libfuse 2
 * has no rename flags, docs/fuse.md) is done as `mv -n` does it, a plain rename (the VFS answered
 * EEXIST already for an existing target); `onFallback` counts those.
 */
export function applyOnFuse(files: FsFiles, step: Step, onFallback: () => void = () => {}): string {
  const outcome = files.apply(step);
  if (step.kind !== "renameNoreplace" || outcome !== "EINVAL") return outcome;
  onFallback();
  return files.apply({ kind: "rename", from: step.from, to: step.to });
}

/** kill -9 of a daxfs-fuse process, then its dead mount detached (what a crash leaves behind). */
export async function killMount(mount: RunningMount): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (mount.process.exitCode !== null || mount.process.signalCode !== null) resolve();
    else mount.process.once("exit", () => resolve());
  });
  mount.process.kill("SIGKILL");
  await exited;
  await mount.stop();
  if (isMounted(mount.mountpoint)) spawnSync("fusermount", ["-uz", mount.mountpoint]);
}

export class FuseDriver implements Driver {
  readonly name = "fuse";
  private harness = new FuseHarness();
  private image = "";
  private chain: { name: string; mount: RunningMount }[] = [];
  private sibling: { name: string; mount: RunningMount; stale: boolean } | null = null;
  private names = new BranchNames();
  private readonly files = new FsFiles(() => this.top.mount.mountpoint);
  private count = 0;

  private get top() {
    return this.chain[this.chain.length - 1] as { name: string; mount: RunningMount };
  }

  private async branch(prefix: "t" | "s", parent: string): Promise<{ name: string; mount: RunningMount }> {
    const name = this.names.next(prefix);
    return { name, mount: await this.harness.mount(this.image, ["--branch", name, "--parent", parent]) };
  }

  async start(tree: BuildDir): Promise<void> {
    await this.stopAll();
    this.image = join(this.harness.dir, `seq${this.count++}.daxfs`);
    writeFileSync(this.image, buildImage(tree, { branching: true, deltaSize: DELTA_SIZE }));
    this.names = new BranchNames();
    this.chain = [await this.branch("t", "main")];
  }

  private async stopChain(): Promise<void> {
    for (const level of this.chain.reverse()) await level.mount.stop();
    this.chain = [];
  }

  private async stopAll(): Promise<void> {
    this.files.closeAll();
    await this.stopChain();
    await this.sibling?.mount.stop();
    this.sibling = null;
  }

  /**
   * renameat2(RENAME_NOREPLACE) steps the host kernel answered EINVAL because daxfs-fuse runs on
   * libfuse 2 (docs/fuse.md "RENAME_NOREPLACE"): the driver then does what `mv -n` does, a plain
   * rename (the VFS has already answered EEXIST for an existing target), and that is the outcome.
   */
  noReplaceFallbacks = 0;

  async apply(step: Step): Promise<string> {
    if (!BRANCH_KINDS.has(step.kind))
      return applyOnFuse(this.files, step, () => {
        this.noReplaceFallbacks += 1;
      });
    switch (step.kind) {
      case "child":
        if (this.chain.length >= MAX_DEPTH) return "skip";
        this.files.closeAll();
        this.chain.push(await this.branch("t", this.top.name));
        return "ok";
      case "commit":
      case "abort": {
        this.files.closeAll();
        const reply = await controlRequest(controlSocketPath(this.top.mount.mountpoint), step.kind);
        await this.stopChain();
        this.chain = [await this.branch("t", "main")];
        if (reply.ok && step.kind === "commit" && this.sibling) this.sibling.stale = true;
        return reply.ok ? "ok" : String((reply as { errno?: string }).errno);
      }
      case "sibling":
        await this.sibling?.mount.stop();
        this.sibling = { ...(await this.branch("s", "main")), stale: false };
        return "ok";
      case "siblingWrite":
        return this.sibling ? siblingWrite(this.sibling.mount.mountpoint, step.data) : "skip";
      case "unmount":
        this.files.closeAll();
        await this.top.mount.stop();
        this.chain.pop();
        if (this.chain.length === 0) this.chain = [await this.branch("t", "main")];
        return "ok";
      case "remount": {
        // kill -9 leaves the branch ACTIVE (no unmount ran); `--branch NAME` alone re-attaches it.
        this.files.closeAll();
        const { name, mount } = this.top;
        await killMount(mount);
        this.chain[this.chain.length - 1] = {
          name,
          mount: await this.harness.mount(this.image, ["--branch", name]),
        };
        return "ok";
      }
      case "switch": {
        if (!this.sibling || this.sibling.stale || this.chain.length !== 1) return "skip";
        this.files.closeAll();
        const top = this.top;
        this.chain = [{ name: this.sibling.name, mount: this.sibling.mount }];
        this.sibling = { ...top, stale: false };
        return "ok";
      }
      default:
        throw new Error(`fuse driver: unknown step ${step.kind}`);
    }
  }

  async end(): Promise<SequenceEnd> {
    this.files.closeAll();
    // Read while mounted: stopping a branch mount drops the uncommitted branch.
    return {
      walk: fsWalk(this.top.mount.mountpoint),
      image: new Uint8Array(readFileSync(this.image)),
      branch: this.top.name,
    };
  }

  async close(): Promise<void> {
    await this.stopAll();
    await this.harness.cleanup();
    this.harness = new FuseHarness();
  }
}
