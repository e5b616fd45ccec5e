// daxfs-fuse read speed, as ratios against the same file on the host file system, both read by the
// same Node reader in this script (docs/fuse.md). Two patterns: sequential 1 MiB reads of the
// whole file, and random 4 KiB reads at seeded offsets. Each pattern runs once untimed (warm-up),
// then BENCH_REPEATS times; the median counts. The host file is page-cached after the warm-up; the
// FUSE file is reopened each run, which drops the kernel's cache of it, so every FUSE read is
// served by the daxfs-fuse process (the cost this measures).
//
//   npx tsx bench/fuse/run.ts             (root or fuse access; BENCH_MIB=256 BENCH_REPEATS=5 BENCH_DIR=/var/tmp
//                                         BENCH_DAXFS_FUSE=CLI.js: another daxfs-fuse build)
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildImage } from "@daxfs/core";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const sizeMiB = Number(process.env.BENCH_MIB ?? 128);
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const randomReads = Number(process.env.BENCH_RANDOM_READS ?? 20_000);
const work = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "bench-fuse-"));

function pattern(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = 0x9e3779b9;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  return out;
}

/** The reader under test: the same code for both files. Returns bytes read (checked). */
function sequential(path: string): number {
  const fd = openSync(path, "r");
  const buffer = Buffer.allocUnsafe(1 << 20);
  let total = 0;
  try {
    for (
      let n = readSync(fd, buffer, 0, buffer.length, total);
      n > 0;
      n = readSync(fd, buffer, 0, buffer.length, total)
    )
      total += n;
  } finally {
    closeSync(fd);
  }
  return total;
}

function random(path: string, size: number): number {
  const fd = openSync(path, "r");
  const buffer = Buffer.allocUnsafe(4096);
  let x = 12345;
  let total = 0;
  try {
    for (let i = 0; i < randomReads; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      total += readSync(fd, buffer, 0, 4096, (x % (size / 4096)) * 4096);
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function time(run: () => number, expected: number): number {
  if (run() !== expected) throw new Error("warm-up read a different number of bytes");
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint();
    if (run() !== expected) throw new Error("read a different number of bytes");
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(samples);
}

async function mountMain(image: string, mountpoint: string): Promise<ChildProcess> {
  const cli = join(repoRoot, "packages/fuse-ref/src/cli.ts");
  const env = {
    ...process.env,
    TSX_TSCONFIG_PATH: join(repoRoot, "packages/fuse-ref/test/tsconfig.cli.json"),
  };
  // BENCH_DAXFS_FUSE=path/to/cli.js measures another build (e.g. the one before a change).
  const other = process.env.BENCH_DAXFS_FUSE;
  const args = other ? [other, image, mountpoint] : ["--import", "tsx", cli, image, mountpoint];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + 30_000;
  while (!output.includes("mounted on")) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`daxfs-fuse did not mount: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

async function main(): Promise<void> {
  const size = sizeMiB << 20;
  const data = pattern(size);
  const hostFile = join(work, "host.bin");
  writeFileSync(hostFile, data);
  const image = join(work, "image.daxfs");
  const root = {
    kind: "dir" as const,
    mode: 0o40755,
    uid: 0,
    gid: 0,
    children: new Map([
      ["file.bin", { kind: "file" as const, mode: 0o100644, uid: 0, gid: 0, size, content: data }],
    ]),
  };
  writeFileSync(image, buildImage(root, { branching: true }));
  const mountpoint = join(work, "mnt");
  mkdirSync(mountpoint);
  const daemon = await mountMain(image, mountpoint);
  try {
    const fuseFile = join(mountpoint, "file.bin");
    if (!readFileSync(fuseFile).equals(data)) throw new Error("daxfs-fuse returned different bytes");
    const rows = [
      {
        name: `sequential 1 MiB reads (${sizeMiB} MiB)`,
        host: time(() => sequential(hostFile), size),
        fuse: time(() => sequential(fuseFile), size),
      },
      {
        name: `random 4 KiB reads (${randomReads})`,
        host: time(() => random(hostFile, size), randomReads * 4096),
        fuse: time(() => random(fuseFile, size), randomReads * 4096),
      },
    ];
    console.log(`daxfs-fuse vs host file, median of ${repeats} (ms; ratio = fuse / host, lower is better)`);
    for (const row of rows) {
      console.log(
        `${row.name.padEnd(36)} host ${row.host.toFixed(1).padStart(9)}  fuse ${row.fuse.toFixed(1).padStart(9)}  ratio ${(row.fuse / row.host).toFixed(2)}`,
      );
    }
  } finally {
    daemon.kill("SIGTERM");
    await new Promise((r) => daemon.once("exit", r));
    spawnSync("fusermount", ["-uz", mountpoint]);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench/fuse: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
