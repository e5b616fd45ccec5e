// Validator speed (issue 4): inodes checked per second on an image of about 100,000 inodes, and the
// ratio against a reference run in this script on the same file: one plain sequential read of all
// its bytes (1 MiB pread calls), i.e. what the metadata costs to merely fetch (docs/benchmarks.md).
// Each measurement runs REPEATS times after one untimed warm-up (page cache filled); medians count.
//
//   pnpm run -s build && npx tsx bench/validate/run.ts
//   BENCH_INODES=200000 BENCH_REPEATS=7 BENCH_DIR=/var/tmp npx tsx bench/validate/run.ts
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuildDir, type BuildNode, buildImage, FileImage, MemoryImage, validate } from "@daxfs/core";

const inodeTarget = Number(process.env.BENCH_INODES ?? 100_000);
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const work = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "bench-validate-"));

/** 1 + D directories of F entries each; every 100th file has 100 bytes of data, the rest are empty. */
function makeTree(): BuildDir {
  const dirs = Math.max(1, Math.round(Math.sqrt(inodeTarget / 10)));
  const perDir = Math.ceil((inodeTarget - 1 - dirs) / dirs);
  const root: BuildDir = { kind: "dir", mode: 0o040755, uid: 0, gid: 0, children: new Map() };
  let made = 1;
  for (let d = 0; d < dirs; d++) {
    const children = new Map<string, BuildNode>();
    root.children.set(`dir${d}`, { kind: "dir", mode: 0o040755, uid: 0, gid: 0, children });
    made++;
    for (let f = 0; f < perDir && made < inodeTarget; f++, made++) {
      const content = f % 100 === 0 ? new Uint8Array(100).fill(f & 0xff) : new Uint8Array(0);
      children.set(`file-${f}.txt`, {
        kind: "file",
        mode: 0o100644,
        uid: 1000,
        gid: 1000,
        size: content.length,
        content,
      });
    }
  }
  return root;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timed(run: () => void): number {
  run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(times);
}

function sequentialRead(path: string): number {
  const fd = openSync(path, "r");
  const buffer = Buffer.allocUnsafe(1 << 20);
  let total = 0;
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, total);
      if (n === 0) break;
      total += n;
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

try {
  const bytes = buildImage(makeTree(), { branching: true, deltaSize: 1 << 20 });
  const path = join(work, "bench.img");
  writeFileSync(path, bytes);
  const check = validate(new MemoryImage(bytes, false));
  if (check.problems.length > 0)
    throw new Error(`benchmark image is not valid: ${check.problems[0]!.message}`);
  const inodes = check.stats.inodes;

  const readMs = timed(() => sequentialRead(path));
  const fileMs = timed(() => {
    const source = FileImage.open(path);
    try {
      validate(source);
    } finally {
      source.close();
    }
  });
  const memoryMs = timed(() => validate(new MemoryImage(bytes, false)));

  const rate = (ms: number) => Math.round(inodes / (ms / 1000));
  console.log(
    `image: ${inodes} inodes, ${check.stats.directoryEntries} directory entries, ${(bytes.length / 2 ** 20).toFixed(1)} MiB; ${repeats} runs, medians`,
  );
  console.log(`reference: sequential read of the image file      ${readMs.toFixed(1)} ms`);
  console.log(
    `validate (image file, pread)                      ${fileMs.toFixed(1)} ms  ${rate(fileMs)} inodes/s  ratio ${(fileMs / readMs).toFixed(2)}x the read`,
  );
  console.log(
    `validate (image in memory)                        ${memoryMs.toFixed(1)} ms  ${rate(memoryMs)} inodes/s  ratio ${(memoryMs / readMs).toFixed(2)}x the read`,
  );
  console.log(`target >= 500000 inodes/s from the file: ${rate(fileMs) >= 500_000 ? "met" : "NOT met"}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
