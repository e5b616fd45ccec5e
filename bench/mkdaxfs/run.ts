// mkdaxfs speed, as ratios against `cp -a` and `mkfs.erofs` (uncompressed) of the same tree, run
// in this script on this machine (docs/benchmarks.md). Trees: many small files in nested
// directories, and one large file. Each command runs REPEATS times (after one untimed warm-up that
// fills the page cache); ratios use the median wall time, and the best time as a second view on a
// shared, noisy machine. Process start-up counts for every tool (about 0.1-0.5 s for Node; the
// bundle the bin runs, so it is what a user pays).
//
//   pnpm --filter @daxfs/bench mkdaxfs            (or: npx tsx bench/mkdaxfs/run.ts)
//   BENCH_FILES=20000 BENCH_BIG_MIB=1024 BENCH_REPEATS=3 BENCH_DIR=/var/tmp/x npx tsx bench/mkdaxfs/run.ts
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const fileCount = Number(process.env.BENCH_FILES ?? 20_000);
const bigMiB = Number(process.env.BENCH_BIG_MIB ?? 1024);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const work = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "bench-mkdaxfs-"));

/** Deterministic non-zero bytes (so nothing can be stored sparse or deduplicated). */
function pattern(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  return out;
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
        writeSync(fd, pattern(4096, made));
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
}

function timeCommand(command: string[], cleanup: () => void): Timing {
  const times: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    cleanup();
    spawnSync("sync");
    const start = process.hrtime.bigint();
    const result = spawnSync(command[0] as string, command.slice(1), {
      stdio: ["ignore", "ignore", "pipe"],
      cwd: repoRoot,
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${command.join(" ")} failed: ${result.stderr}`);
    if (i > 0) times.push(ms); // run 0 warms the page cache
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)] as number, best: times[0] as number };
}

function bench(label: string, source: string): Record<string, number | string> {
  const copy = join(work, "copy");
  const erofs = join(work, "erofs.img");
  const daxfs = join(work, "daxfs.img");
  const clean = () => rmSync(join(work, "out"), { recursive: true, force: true });
  // The bundle the mkdaxfs bin on PATH runs (scripts/bundle.mjs; docs/cli.md "Start-up").
  const cli = join(repoRoot, "packages/mkdaxfs/dist/bundle/cli.cjs");
  const cp = timeCommand(["cp", "-a", source, copy], () => rmSync(copy, { recursive: true, force: true }));
  const mkfsErofs = timeCommand(["mkfs.erofs", "--quiet", "-T0", erofs, source], () =>
    rmSync(erofs, { force: true }),
  );
  const mkdaxfs = timeCommand([process.execPath, cli, "-d", source, "-o", daxfs], () =>
    rmSync(daxfs, { force: true }),
  );
  const mkdaxfsBranching = timeCommand([process.execPath, cli, "-d", source, "-o", daxfs, "-b"], () =>
    rmSync(daxfs, { force: true }),
  );
  clean();
  const imageMiB = +(statSync(daxfs).size / 2 ** 20).toFixed(1);
  const ratio = (a: number, b: number) => +(a / b).toFixed(2);
  const row = {
    tree: label,
    "cp -a ms": Math.round(cp.median),
    "mkfs.erofs ms": Math.round(mkfsErofs.median),
    "mkdaxfs ms": Math.round(mkdaxfs.median),
    "mkdaxfs -b ms": Math.round(mkdaxfsBranching.median),
    "mkdaxfs / cp -a": ratio(mkdaxfs.median, cp.median),
    "mkdaxfs / mkfs.erofs": ratio(mkdaxfs.median, mkfsErofs.median),
    "best: / cp -a": ratio(mkdaxfs.best, cp.best),
    "best: / mkfs.erofs": ratio(mkdaxfs.best, mkfsErofs.best),
    "-b image MiB": imageMiB,
  };
  rmSync(copy, { recursive: true, force: true });
  rmSync(erofs, { force: true });
  rmSync(daxfs, { force: true });
  return row;
}

try {
  const build = spawnSync("npx", ["tsc", "-b", "packages/mkdaxfs"], { cwd: repoRoot, stdio: "inherit" });
  if (build.status !== 0) console.warn("tsc -b reported errors; using the emitted dist/ anyway");
  if (spawnSync(process.execPath, ["scripts/bundle.mjs"], { cwd: repoRoot, stdio: "inherit" }).status !== 0)
    throw new Error("scripts/bundle.mjs failed");
  const small = join(work, "small");
  const big = join(work, "big");
  makeSmallFiles(small);
  makeBigFile(big);
  const rows = [bench(`${fileCount} x 4 KiB, nested`, small), bench(`1 x ${bigMiB} MiB`, big)];
  console.table(rows);
  console.log(JSON.stringify({ date: new Date().toISOString(), node: process.version, repeats, rows }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
