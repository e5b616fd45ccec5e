// daxfs-tui at scale (issue 12 item 9): an image of about 100,000 inodes and 200 branches; the time
// from starting the real binary in a terminal (tmux) to its first full screen, and its peak memory
// then. Reference, run in this script on the same image: `daxfs-inspect IMAGE summary`, which
// opens the image and prints the branch tree without a UI (same Node start-up, same core reads);
// and a bare `node` for memory. Each measurement runs REPEATS times; medians count.
//
//   pnpm run -s build && npx tsx bench/tui/run.ts
//   BENCH_INODES=200000 BENCH_BRANCHES=250 BENCH_REPEATS=5 npx tsx bench/tui/run.ts
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type BuildDir,
  branchContext,
  buildImage,
  createBranch,
  FileImage,
  makeDir,
  makeFile,
} from "@daxfs/core";

const inodeTarget = Number(process.env.BENCH_INODES ?? 100_000);
const branchCount = Number(process.env.BENCH_BRANCHES ?? 200);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const work = mkdtempSync(join(tmpdir(), "bench-tui-"));
const root = fileURLToPath(new URL("../..", import.meta.url));
const tuiCli = join(root, "packages/tui/dist/cli.js");
const inspectCli = join(root, "packages/inspect/dist/cli.js");
const socket = `bench-tui-${process.pid}`;
const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });

/** Directories of 1,000 small files each, up to `inodeTarget` inodes. */
function wideTree(): BuildDir {
  const tree = makeDir();
  let made = 1;
  for (let d = 0; made < inodeTarget; d++) {
    const dir = makeDir();
    tree.children.set(`dir${String(d).padStart(3, "0")}`, dir);
    made++;
    for (let f = 0; f < 1000 && made < inodeTarget; f++, made++)
      dir.children.set(`file-${f}.txt`, makeFile(`${d}/${f}\n`));
  }
  return tree;
}

/** main, then children of main and grandchildren under them, `branchCount` in all. */
function addBranches(path: string): void {
  const source = FileImage.open(path, { writable: true });
  try {
    const ctx = branchContext(source);
    const tops = Math.ceil(branchCount / 10);
    let made = 0;
    for (let t = 0; t < tops && made < branchCount; t++, made++) {
      createBranch(ctx, `agent${t}`, "main");
      for (let c = 0; c < 9 && made + 1 < branchCount; c++, made++)
        createBranch(ctx, `agent${t}-${c}`, `agent${t}`);
    }
  } finally {
    source.close();
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Peak resident memory (VmHWM) of a process, in MiB. */
function peakMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/);
  return Number(line?.[1] ?? Number.NaN) / 1024;
}

/** Starts the TUI in an 80x24 tmux window; resolves when the branch pane and file list are drawn. */
async function firstFrame(image: string, expect: string): Promise<{ ms: number; mib: number }> {
  const started = performance.now();
  tmux("new-session", "-d", "-s", "bench", "-x", "80", "-y", "24", `exec node ${tuiCli} ${image}`);
  try {
    for (;;) {
      const screen = tmux("capture-pane", "-p", "-t", "bench");
      if (screen.includes(expect) && screen.includes("dir000/")) {
        const ms = performance.now() - started;
        const pid = Number(tmux("display-message", "-p", "-t", "bench", "#{pane_pid}").trim());
        return { ms, mib: peakMiB(pid) };
      }
      if (performance.now() - started > 60_000) throw new Error(`no first frame in 60 s:\n${screen}`);
      await sleep(5);
    }
  } finally {
    tmux("kill-session", "-t", "bench");
  }
}

function timedRun(args: string[]): number {
  const started = performance.now();
  const run = spawnSync("node", args, { encoding: "utf8", maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`node ${args.join(" ")}: ${run.stderr}`);
  return performance.now() - started;
}

try {
  const image = join(work, "bench.img");
  const buildStarted = performance.now();
  writeFileSync(image, buildImage(wideTree(), { branching: true, deltaSize: 64 << 20 }));
  addBranches(image);
  const buildMs = performance.now() - buildStarted;
  const expect = `Branches (${branchCount + 1})`;
  const frames: { ms: number; mib: number }[] = [];
  const inspectMs: number[] = [];
  for (let run = 0; run < repeats; run++) {
    frames.push(await firstFrame(image, expect));
    inspectMs.push(timedRun([inspectCli, image, "summary"]));
  }
  // VmHWM, not resourceUsage().maxRSS, which Linux carries over from the parent across fork and exec.
  const bare = spawnSync(
    "node",
    ["-e", "console.log(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status','utf8'))[1])"],
    { encoding: "utf8" },
  );
  const bareMiB = Number(bare.stdout) / 1024;
  const tuiMs = median(frames.map((f) => f.ms));
  const tuiMiB = median(frames.map((f) => f.mib));
  const refMs = median(inspectMs);
  console.log(
    `image: ${inodeTarget} inodes, ${branchCount} branches + main, built in ${(buildMs / 1000).toFixed(1)} s; ${repeats} runs, medians`,
  );
  console.log(`reference: daxfs-inspect IMAGE summary            ${refMs.toFixed(0)} ms`);
  console.log(
    `daxfs-tui first screen (80x24, tmux)              ${tuiMs.toFixed(0)} ms  ratio ${(tuiMs / refMs).toFixed(2)}x the reference`,
  );
  console.log(
    `daxfs-tui peak memory at the first screen         ${tuiMiB.toFixed(1)} MiB (bare node ${bareMiB.toFixed(1)} MiB)`,
  );
  console.log(`target first screen < 1 s: ${tuiMs < 1000 ? "met" : "NOT met"}`);
} finally {
  spawnSync("tmux", ["-L", socket, "kill-server"]);
  // The server leaves its socket file behind when killed.
  rmSync(join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.()}`, socket), { force: true });
  rmSync(work, { recursive: true, force: true });
}
