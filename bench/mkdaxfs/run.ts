// mkdaxfs speed, as ratios against `cp -a` and `mkfs.erofs` (uncompressed) of the same tree, and
// `daxfs-inspect IMG validate` against `fsck.erofs` on the two images, and `mkdaxfs --sparse`
// against mkdaxfs's default (fully allocated) build, run in this script on this
// machine (docs/benchmarks.md). Trees: many small files in nested directories, one large file, and
// optionally an existing tree (a debootstrap'ed rootfs). Each command runs REPEATS times (after one
// untimed warm-up that fills the page cache); ratios use the median wall time, and the best time
// as a second view on a shared, noisy machine; CPU time (user + system, of the process and its
// threads) is reported beside it, as it moves less with the machine's load. Process start-up
// counts for every tool (about 0.05-0.5 s for Node; the bundles the bins run, so it is what a
// user pays).
//
//   pnpm --filter @daxfs/bench mkdaxfs            (or: npx tsx bench/mkdaxfs/run.ts)
//   BENCH_FILES=20000 BENCH_BIG_MIB=1024 BENCH_REPEATS=3 BENCH_DIR=/var/tmp/x npx tsx bench/mkdaxfs/run.ts
//   BENCH_FILES=100000 BENCH_FILE_BYTES=100 BENCH_BIG_MIB=0 BENCH_CP=0 BENCH_TREE=/srv/rootfs ...
//     (BENCH_BIG_MIB=0: no large file; BENCH_CP=0: no `cp -a`, which takes minutes on 100,000
//     files; BENCH_TREE: one more row for that existing tree, read only)
//   BENCH_PUBLIC_MKDAXFS=/path/to/mkdaxfs ...: also time the public C mkdaxfs (same flags, -d SRC -o IMG);
//     its sources are not reachable from the development machine (npm and Debian only), so the
//     column shows '-' unless a built binary is given
import { spawnSync } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const fileCount = Number(process.env.BENCH_FILES ?? 20_000);
const bigMiB = Number(process.env.BENCH_BIG_MIB ?? 1024);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const fileBytes = Number(process.env.BENCH_FILE_BYTES ?? 4096);
const withCp = process.env.BENCH_CP !== "0";
const extraTree = process.env.BENCH_TREE;
const publicMkdaxfs = process.env.BENCH_PUBLIC_MKDAXFS;
const work = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "bench-mkdaxfs-"));

/** Deterministic non-zero bytes (so nothing can be stored sparse or deduplicated). */
function pattern(size: number, seed: number): Buffer {
  const out = Buffer.alloc(Math.ceil(size / 4) * 4);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < out.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  return out.subarray(0, size);
}

function makeSmallFiles(root: string): void {
  // 20 top directories x 10 subdirectories x N files (nesting depth 3).
  const perLeaf = Math.ceil(fileCount / 200);
  let made = 0;
  for (let a = 0; a < 20 && made < fileCount; a++) {
    for (let b = 0; b < 10 && made < fileCount; b++) {
      const dir = join(root, `dir${a}`, `sub${b}`);
      mkdirSync(dir, { recursive: true });
      for (let c = 0; c < perLeaf && made < fileCount; c++, made++) {
        const fd = openSync(join(dir, `file${c}.dat`), "w");
        writeSync(fd, pattern(fileBytes, made));
        closeSync(fd);
      }
    }
  }
}

function makeBigFile(root: string): void {
  mkdirSync(root, { recursive: true });
  const fd = openSync(join(root, "big.bin"), "w");
  const chunk = pattern(1 << 20, 7);
  for (let i = 0; i < bigMiB; i++) {
    chunk.writeUInt32LE(i, 0);
    writeSync(fd, chunk);
  }
  closeSync(fd);
}

interface Timing {
  median: number;
  best: number;
  /** Median user + system CPU time of the child (all its threads), ms. */
  cpu: number;
}

/** CPU time of children so far (user + system), ms: process.resourceUsage covers only this process. */
function childrenCpuMs(): number {
  const times = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
  // Fields 16 and 17 of stat(5) (cutime, cstime), here at 13 and 14 after the ") " split.
  const ticks = Number(times[13]) + Number(times[14]);
  return (ticks * 1000) / clockTicks;
}
const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

function timeCommand(command: string[], cleanup: () => void): Timing {
  const times: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    cleanup();
    spawnSync("sync");
    const cpuBefore = childrenCpuMs();
    const start = process.hrtime.bigint();
    const result = spawnSync(command[0] as string, command.slice(1), {
      stdio: ["ignore", "ignore", "pipe"],
      cwd: repoRoot,
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const cpu = childrenCpuMs() - cpuBefore;
    if (result.status !== 0) throw new Error(`${command.join(" ")} failed: ${result.stderr}`);
    if (i > 0) {
      // run 0 warms the page cache
      times.push(ms);
      cpus.push(cpu);
    }
  }
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  return { median: median(times), best: Math.min(...times), cpu: median(cpus) };
}

function bench(label: string, source: string): Record<string, number | string> {
  const copy = join(work, "copy");
  const erofs = join(work, "erofs.img");
  const daxfs = join(work, "daxfs.img");
  const publicImage = join(work, "public.img");
  // The bundles the mkdaxfs and daxfs-inspect bins on PATH run (scripts/bundle.mjs; docs/cli.md "Start-up").
  const cli = join(repoRoot, "packages/mkdaxfs/dist/bundle/cli.cjs");
  const inspect = join(repoRoot, "packages/inspect/dist/bundle/cli.cjs");
  const cp = withCp
    ? timeCommand(["cp", "-a", source, copy], () => rmSync(copy, { recursive: true, force: true }))
    : null;
  const mkfsErofs = timeCommand(["mkfs.erofs", "--quiet", "-T0", erofs, source], () =>
    rmSync(erofs, { force: true }),
  );
  const mkdaxfsBranching = timeCommand([process.execPath, cli, "-d", source, "-o", daxfs, "-b"], () =>
    rmSync(daxfs, { force: true }),
  );
  const imageMiB = +(statSync(daxfs).size / 2 ** 20).toFixed(1);
  const mkdaxfs = timeCommand([process.execPath, cli, "-d", source, "-o", daxfs], () =>
    rmSync(daxfs, { force: true }),
  );
  // --sparse: the zero test of every block and no in-kernel copy (docs/mkdaxfs.md "Sparse images").
  const mkdaxfsSparse = timeCommand([process.execPath, cli, "-d", source, "-o", daxfs, "--sparse"], () =>
    rmSync(daxfs, { force: true }),
  );
  const publicBuild = publicMkdaxfs
    ? timeCommand([publicMkdaxfs, "-d", source, "-o", publicImage], () =>
        rmSync(publicImage, { force: true }),
      )
    : null;
  // On the images just built (static for daxfs; fsck.erofs checks metadata, as validate does).
  const fsckErofs = timeCommand(["fsck.erofs", erofs], () => {});
  const validate = timeCommand([process.execPath, inspect, daxfs, "validate"], () => {});
  const ratio = (a: number, b: number) => +(a / b).toFixed(2);
  const row = {
    tree: label,
    "cp -a ms": cp ? Math.round(cp.median) : "-",
    "mkfs.erofs ms": Math.round(mkfsErofs.median),
    "mkdaxfs ms": Math.round(mkdaxfs.median),
    "mkdaxfs -b ms": Math.round(mkdaxfsBranching.median),
    "mkdaxfs / cp -a": cp ? ratio(mkdaxfs.median, cp.median) : "-",
    "mkdaxfs / mkfs.erofs": ratio(mkdaxfs.median, mkfsErofs.median),
    "best: / mkfs.erofs": ratio(mkdaxfs.best, mkfsErofs.best),
    "cpu: / mkfs.erofs": ratio(mkdaxfs.cpu, mkfsErofs.cpu),
    "--sparse ms": Math.round(mkdaxfsSparse.median),
    "--sparse / mkdaxfs": ratio(mkdaxfsSparse.median, mkdaxfs.median),
    "cpu: --sparse / mkdaxfs": ratio(mkdaxfsSparse.cpu, mkdaxfs.cpu),
    "public mkdaxfs ms": publicBuild ? Math.round(publicBuild.median) : "-",
    "mkdaxfs / public": publicBuild ? ratio(mkdaxfs.median, publicBuild.median) : "-",
    "fsck.erofs ms": Math.round(fsckErofs.median),
    "validate ms": Math.round(validate.median),
    "validate / fsck.erofs": ratio(validate.median, fsckErofs.median),
    "best: validate / fsck": ratio(validate.best, fsckErofs.best),
    "-b image MiB": imageMiB,
  };
  rmSync(copy, { recursive: true, force: true });
  rmSync(erofs, { force: true });
  rmSync(daxfs, { force: true });
  rmSync(publicImage, { force: true });
  return row;
}

try {
  const build = spawnSync("npx", ["tsc", "-b", "packages/mkdaxfs", "packages/inspect"], {
    cwd: repoRoot,
    stdio: "inherit",
  });
  if (build.status !== 0) console.warn("tsc -b reported errors; using the emitted dist/ anyway");
  if (spawnSync(process.execPath, ["scripts/bundle.mjs"], { cwd: repoRoot, stdio: "inherit" }).status !== 0)
    throw new Error("scripts/bundle.mjs failed");
  const rows: Array<Record<string, number | string>> = [];
  if (fileCount > 0) {
    const small = join(work, "small");
    makeSmallFiles(small);
    rows.push(bench(`${fileCount} x ${fileBytes} B, nested`, small));
    rmSync(small, { recursive: true, force: true });
  }
  if (bigMiB > 0) {
    const big = join(work, "big");
    makeBigFile(big);
    rows.push(bench(`1 x ${bigMiB} MiB`, big));
    rmSync(big, { recursive: true, force: true });
  }
  if (extraTree) rows.push(bench(extraTree, extraTree));
  console.table(rows);
  console.log(
    JSON.stringify({ date: new Date().toISOString(), node: process.version, load: loadavg(), repeats, rows }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
