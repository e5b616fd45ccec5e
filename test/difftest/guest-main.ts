// The guest side of the kernel driver: run inside a QEMU guest with host_run (test/qemu/README.md
// "Running host programs"), it plays a batch of sequences, each on its own image of the pack,
// against daxfs.ko branch mounts (mount -o branch=,parent=; remount,commit / remount,abort) and
// prints one "DIFFTEST <json>" line per sequence: every step's outcome and the top branch's walk.
// A batch entry with `replay` is an image written elsewhere (daxfs-fuse): its branch is re-attached
// and walked, so the kernel reads another writer's log. Entries with `crash` and `recover` are the
// two halves of a guest crash (guest-crash.ts): steps the host interrupts by quitting QEMU, and,
// in the next boot, the kernel's recovery of what that left.
// The guest unmounts everything before it stops (dropping uncommitted branches), so each sequence
// ends with a commit of its top branch; the host replays main from the pack.
//
//   node --import tsx test/difftest/guest-main.ts BATCH.json NAME=PHYS:SIZE...
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
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

  /** A sibling of t1 mounted after it, so t1's log is not the last extent: its growth moves it. */
  holdSibling(): void {
    this.sibling = this.mount("s", "main");
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

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * A crash run (guest-crash.ts): t1 and a sibling mounted, then the steps, each reported done as
 * it returns, then the commit; the host quits QEMU at some moment of it. The lines are the host's
 * only view of how far the guest got (a serial port: the last ones can be lost).
 */
function crashRun(name: string, at: { phys: string; size: string }, json: unknown, scratch: string): void {
  const chain = new KernelChain(name, at.phys, at.size);
  chain.start();
  chain.holdSibling();
  // Every sequence of the boot starts together (the script touches "start" once all are ready),
  // so one quit finds each at another point.
  writeFileSync(join(scratch, `ready-${name}`), "");
  const tick = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(join(scratch, "start"))) Atomics.wait(tick, 0, 0, 5);
  say(`DIFFTEST-GO ${name}`);
  for (const [i, step] of stepsFromJson(json).entries()) {
    chain.apply(step);
    say(`DIFFTEST-DONE ${name} ${i + 1}`);
  }
  chain.files.closeAll();
  say(`DIFFTEST-COMMIT ${name}`);
  say(`DIFFTEST-COMMITTED ${name} ${run(["-o", "remount,commit", chain.top.mnt])}`);
}

/**
 * After a crash, what the next kernel makes of the image: a new branch (taking the coordination
 * lock recovers an interrupted commit) dropped again, main mounted with `validate` and walked,
 * and t1 re-attached and walked when it is still there.
 */
function recoverRun(name: string, at: { phys: string; size: string }): object {
  const opts = `phys=${at.phys},size=${at.size}`;
  const mnt = (leaf: string) => {
    const dir = `/mnt/${name}/${leaf}`;
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const lock = run(["-t", "daxfs", "-o", `${opts},branch=recover,parent=main`, "none", mnt("recover")]);
  if (lock !== "ok") return { name, error: `mounting a new branch after the crash: ${lock}` };
  spawnSync("umount", [`/mnt/${name}/recover`]);
  const main = run(["-t", "daxfs", "-o", `${opts},validate`, "none", mnt("main")]);
  if (main !== "ok") return { name, error: `mounting main with validate after the crash: ${main}` };
  const mainWalk = fsWalk(`/mnt/${name}/main`);
  spawnSync("umount", [`/mnt/${name}/main`]);
  const t1 = run(["-t", "daxfs", "-o", `${opts},branch=t1`, "none", mnt("t1")]);
  const t1Walk = t1 === "ok" ? fsWalk(`/mnt/${name}/t1`) : t1;
  if (t1 === "ok") spawnSync("umount", [`/mnt/${name}/t1`]);
  return { name, mainWalk, t1: t1Walk };
}

/**
 * The guest's half of a mixed chain (mixed.ts): levels t1, t2, ... in rounds of MIXED_ROUND, the
 * even ones written here by daxfs.ko, the odd ones by daxfs-fuse on the host on the same pack
 * file. Each kernel level is mounted under the level before, its steps run and their outcomes
 * printed; then the guest waits for the host's file `level-N` in `signals` (a host directory, seen
 * read-only over 9p) before going on. The host commits each round's top; the kernel's mounts of the
 * round are then unmounted (their branches are COMMITTED: nothing is dropped). At the end main is
 * mounted with `validate` and walked.
 */
function mixedRun(
  name: string,
  at: { phys: string; size: string },
  levels: unknown[],
  signals: string,
  round: number,
): object {
  const opts = `phys=${at.phys},size=${at.size}`;
  const waitFor = (file: string) => {
    const tick = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 600_000;
    while (!existsSync(join(signals, file))) {
      if (Date.now() > deadline) throw new Error(`mixed: the host never wrote ${file}`);
      Atomics.wait(tick, 0, 0, 20);
    }
  };
  let mounted: string[] = [];
  for (const [i, json] of levels.entries()) {
    if (i % 2 === 1) {
      waitFor(`level-${i}`);
      if (i % round === round - 1) {
        for (const mnt of mounted.reverse()) spawnSync("umount", [mnt]);
        mounted = [];
      }
      continue;
    }
    const branch = `t${i + 1}`;
    const mnt = `/mnt/${name}/${branch}`;
    mkdirSync(mnt, { recursive: true });
    const parent = i % round === 0 ? "main" : `t${i}`;
    const outcome = run(["-t", "daxfs", "-o", `${opts},branch=${branch},parent=${parent}`, "none", mnt]);
    if (outcome !== "ok") return { name, error: `mounting ${branch} under ${parent}: ${outcome}` };
    mounted.push(mnt);
    const files = new FsFiles(() => mnt);
    const outcomes = stepsFromJson(json).map((step) => files.apply(step));
    files.closeAll();
    say(`DIFFTEST-MIXED ${name} ${i} ${JSON.stringify(outcomes)}`);
  }
  const mnt = `/mnt/${name}/main`;
  mkdirSync(mnt, { recursive: true });
  const main = run(["-t", "daxfs", "-o", `${opts},validate`, "none", mnt]);
  if (main !== "ok") return { name, error: `mounting main with validate: ${main}` };
  const mainWalk = fsWalk(mnt);
  spawnSync("umount", [mnt]);
  return { name, mainWalk };
}

function main(): void {
  const [batchPath, ...images] = process.argv.slice(2);
  if (!batchPath) throw new Error("usage: guest-main.ts BATCH.json NAME=PHYS:SIZE...");
  const batch = JSON.parse(readFileSync(batchPath, "utf8")) as {
    name: string;
    steps?: unknown;
    replay?: string;
    /** Steps of a crash run (the host quits QEMU during it). */
    crash?: unknown;
    /** An image a crash left: recover it and walk it. */
    recover?: boolean;
    /** The guest's levels of a mixed chain (mixed.ts). */
    mixed?: { levels: unknown[]; signals: string; round: number };
  }[];
  const where = new Map(
    images.map((arg) => {
      const [name, rest] = arg.split("=") as [string, string];
      const [phys, size] = rest.split(":") as [string, string];
      return [name, { phys, size }];
    }),
  );
  for (const { name, steps: json, replay, crash, recover, mixed } of batch) {
    const at = where.get(name);
    if (!at) throw new Error(`guest-main: image ${name} is not in the pack`);
    if (crash) {
      crashRun(name, at, crash, dirname(batchPath));
      continue;
    }
    if (mixed) {
      const result = mixedRun(name, at, mixed.levels, mixed.signals, mixed.round);
      say(`DIFFTEST ${JSON.stringify(result)}`);
      continue;
    }
    if (recover) {
      say(`DIFFTEST ${JSON.stringify(recoverRun(name, at))}`);
      continue;
    }
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
