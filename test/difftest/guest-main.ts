// The guest side of the kernel driver: run inside a QEMU guest with host_run (test/qemu/README.md
// "Running host programs"), it plays a batch of sequences, each on its own image of the pack,
// against daxfs.ko branch mounts (mount -o branch=,parent=; remount,commit / remount,abort) and
// prints one "DIFFTEST <json>" line per sequence: every step's outcome and the top branch's walk.
// A batch entry with `replay` is an image written elsewhere (daxfs-fuse): its branch is re-attached
// and walked, so the kernel reads another writer's log.
// The guest unmounts everything before it stops (dropping uncommitted branches), so each sequence
// ends with a commit of its top branch; the host replays main from the pack.
//
//   node --import tsx test/difftest/guest-main.ts BATCH.json NAME=PHYS:SIZE...
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { fsWalk } from "../cross/walk.js";
import { BranchNames, FsFiles, MAX_DEPTH, siblingWrite } from "./driver.js";
import { BRANCH_KINDS, type Step, stepsFromJson } from "./steps.js";

interface Level {
  name: string;
  mnt: string;
}

function run(args: string[]): string {
  const result = spawnSync("mount", args, { encoding: "utf8" });
  if (result.status === 0) return "ok";
  const text = `${result.stderr}${result.stdout}`.trim();
  // util-linux prints strerror; map back the ones branch steps can meet.
  for (const [errno, words] of [
    ["ESTALE", "Stale file handle"],
    ["EBUSY", "busy"],
    ["ENOSPC", "No space left"],
    ["EINVAL", "Invalid argument"],
    ["ENOENT", "No such file"],
  ])
    if (text.includes(words as string)) return errno as string;
  return `mount failed: ${text.replace(/\s+/g, " ")}`;
}

class KernelChain {
  private chain: Level[] = [];
  private sibling: Level | null = null;
  /** A commit moved main since the sibling was made (the switch step skips a stale sibling). */
  private siblingStale = false;
  private readonly names = new BranchNames();
  readonly files = new FsFiles(() => this.top.mnt);

  constructor(
    private readonly image: string,
    private readonly phys: string,
    private readonly size: string,
  ) {}

  get top(): Level {
    return this.chain[this.chain.length - 1] as Level;
  }

  private mount(prefix: "t" | "s", parent: string): Level {
    const name = this.names.next(prefix);
    const mnt = `/mnt/${this.image}/${name}`;
    mkdirSync(mnt, { recursive: true });
    const outcome = run([
      "-t",
      "daxfs",
      "-o",
      `phys=${this.phys},size=${this.size},branch=${name},parent=${parent}`,
      "none",
      mnt,
    ]);
    if (outcome !== "ok")
      throw new Error(`${this.image}: mounting branch ${name} under ${parent}: ${outcome}`);
    return { name, mnt };
  }

  start(): void {
    this.chain = [this.mount("t", "main")];
  }

  private unmountChain(): void {
    for (const level of this.chain.reverse()) spawnSync("umount", [level.mnt]);
    this.chain = [];
  }

  /**
   * The guest unmounts every daxfs mount before it stops, which drops uncommitted branches: so
   * the top branch is committed here (the kernel's merge) and main walked through a read-only
   * mount; the host replays main from the pack.
   */
  finish(): { commit: string; mainWalk: unknown } {
    const commit = run(["-o", "remount,commit", this.top.mnt]);
    const mnt = `/mnt/${this.image}/main`;
    mkdirSync(mnt, { recursive: true });
    // `validate`: the kernel checks the whole image (its own logs, merged by its commit) first.
    const mounted = run(["-t", "daxfs", "-o", `phys=${this.phys},size=${this.size},validate`, "none", mnt]);
    const mainWalk = mounted === "ok" ? fsWalk(mnt) : `mounting main with validate: ${mounted}`;
    spawnSync("umount", [mnt]);
    return { commit, mainWalk };
  }

  apply(step: Step): string {
    if (!BRANCH_KINDS.has(step.kind)) return this.files.apply(step);
    switch (step.kind) {
      case "child":
        if (this.chain.length >= MAX_DEPTH) return "skip";
        this.files.closeAll();
        this.chain.push(this.mount("t", this.top.name));
        return "ok";
      case "commit":
      case "abort": {
        this.files.closeAll();
        const outcome = run(["-o", `remount,${step.kind}`, this.top.mnt]);
        this.unmountChain();
        this.chain = [this.mount("t", "main")];
        if (outcome === "ok" && step.kind === "commit") this.siblingStale = true;
        return outcome;
      }
      case "sibling":
        if (this.sibling) spawnSync("umount", [this.sibling.mnt]);
        this.sibling = this.mount("s", "main");
        this.siblingStale = false;
        return "ok";
      case "unmount": {
        this.files.closeAll();
        const umount = spawnSync("umount", [this.top.mnt], { encoding: "utf8" });
        if (umount.status !== 0) return `umount failed: ${umount.stderr.trim()}`;
        this.chain.pop();
        if (this.chain.length === 0) this.chain = [this.mount("t", "main")];
        return "ok";
      }
      case "remount":
        this.files.closeAll();
        return run(["-o", "remount", this.top.mnt]);
      case "switch": {
        if (!this.sibling || this.siblingStale || this.chain.length !== 1) return "skip";
        this.files.closeAll();
        const top = this.top;
        this.chain = [this.sibling];
        this.sibling = top;
        return "ok";
      }
      case "siblingWrite":
        return this.sibling ? siblingWrite(this.sibling.mnt, step.data) : "skip";
      default:
        throw new Error(`kernel driver: unknown step ${step.kind}`);
    }
  }
}

function main(): void {
  const [batchPath, ...images] = process.argv.slice(2);
  if (!batchPath) throw new Error("usage: guest-main.ts BATCH.json NAME=PHYS:SIZE...");
  const batch = JSON.parse(readFileSync(batchPath, "utf8")) as {
    name: string;
    steps?: unknown;
    replay?: string;
  }[];
  const where = new Map(
    images.map((arg) => {
      const [name, rest] = arg.split("=") as [string, string];
      const [phys, size] = rest.split(":") as [string, string];
      return [name, { phys, size }];
    }),
  );
  for (const { name, steps: json, replay } of batch) {
    const at = where.get(name);
    if (!at) throw new Error(`guest-main: image ${name} is not in the pack`);
    if (replay) {
      // An image another implementation wrote: re-attach its ACTIVE branch and walk it.
      const mnt = `/mnt/${name}/${replay}`;
      mkdirSync(mnt, { recursive: true });
      const validated = run(["-t", "daxfs", "-o", `phys=${at.phys},size=${at.size},validate`, "none", mnt]);
      if (validated !== "ok") {
        process.stdout.write(
          `DIFFTEST ${JSON.stringify({ name, error: `validate refused it: ${validated}` })}\n`,
        );
        continue;
      }
      spawnSync("umount", [mnt]);
      const mounted = run([
        "-t",
        "daxfs",
        "-o",
        `phys=${at.phys},size=${at.size},branch=${replay}`,
        "none",
        mnt,
      ]);
      const result =
        mounted === "ok" ? { name, walk: fsWalk(mnt) } : { name, error: `mounting ${replay}: ${mounted}` };
      process.stdout.write(`DIFFTEST ${JSON.stringify(result)}\n`);
      continue;
    }
    const chain = new KernelChain(name, at.phys, at.size);
    let result: object;
    try {
      chain.start();
      const outcomes = stepsFromJson(json).map((step) => chain.apply(step));
      chain.files.closeAll();
      const walk = fsWalk(chain.top.mnt);
      result = { name, outcomes, walk, ...chain.finish() };
    } catch (error) {
      result = { name, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    process.stdout.write(`DIFFTEST ${JSON.stringify(result)}\n`);
  }
}

main();
