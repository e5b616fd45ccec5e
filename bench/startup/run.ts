// Start-up (issue 14): the wall time of a small job, where the process start dominates. mkdaxfs on a
// tiny tree and `daxfs-inspect IMAGE validate` on the small image it makes, each as the bin on PATH
// runs it (the esbuild bundle, dist/bundle/cli.cjs) and as the tsc output (dist/cli.js), against
// mkfs.erofs and fsck.erofs on the same tree in the same run, and `node -e 0` (Node's own floor);
// and `--version` of daxfs-tui, daxfs-fuse and daxfs-branch (dist/cli.js), start-up alone.
// Commands run interleaved, REPEATS rounds after one untimed warm-up; the median of each counts (this
// machine is shared, so a single run means little). Reported as ratios (docs/benchmarks.md).
//
//   pnpm run -s build && npx tsx bench/startup/run.ts
//   BENCH_REPEATS=41 npx tsx bench/startup/run.ts
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repeats = Number(process.env.BENCH_REPEATS ?? 21);
const repo = join(dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "bench-startup-"));

/** A tiny tree: a few directories, files and a symlink, as a small container layer might hold. */
function makeTree(root: string): void {
  for (const dir of ["etc", "usr/bin", "var/log"]) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, "etc/hostname"), "bench\n");
  writeFileSync(join(root, "etc/os-release"), "NAME=bench\n".repeat(20));
  writeFileSync(join(root, "usr/bin/tool"), Buffer.alloc(10_000, 1));
}

function has(program: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${program}`]).status === 0;
}

function run(argv: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(" ")}: exit ${result.status}: ${result.stderr}`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

try {
  const tree = join(work, "tree");
  makeTree(tree);
  const image = join(work, "tiny.daxfs");
  const erofs = join(work, "tiny.erofs");
  const node = process.execPath;
  const bin = (pkg: string, file: string) => join(repo, "packages", pkg, "dist", file);
  const commands: Record<string, string[]> = {
    "node -e 0": [node, "-e", "0"],
    "mkdaxfs (bundle)": [node, bin("mkdaxfs", "bundle/cli.cjs"), "-d", tree, "-o", image],
    "mkdaxfs (tsc dist)": [node, bin("mkdaxfs", "cli.js"), "-d", tree, "-o", image],
    "validate (bundle)": [node, bin("inspect", "bundle/cli.cjs"), image, "validate"],
    "validate (tsc dist)": [node, bin("inspect", "cli.js"), image, "validate"],
    // The other tools' quickest job: Ink and React load only to draw (daxfs-tui), so this is start-up alone.
    "daxfs-tui --version": [node, bin("tui", "cli.js"), "--version"],
    "daxfs-fuse --version": [node, bin("fuse-ref", "cli.js"), "--version"],
    "daxfs-branch --version": [node, bin("branch", "cli.js"), "--version"],
  };
  const erofsTools = has("mkfs.erofs") && has("fsck.erofs");
  if (erofsTools) {
    commands["mkfs.erofs"] = ["mkfs.erofs", "--quiet", erofs, tree];
    commands["fsck.erofs"] = ["fsck.erofs", erofs];
  } else console.log("(erofs-utils not installed: no reference rows; scripts/setup.sh --all installs them)");

  const times = new Map<string, number[]>(Object.keys(commands).map((name) => [name, []]));
  for (const argv of Object.values(commands)) run(argv); // warm-up: page cache, image files exist
  for (let round = 0; round < repeats; round++)
    for (const [name, argv] of Object.entries(commands)) times.get(name)!.push(run(argv));

  const med = new Map([...times].map(([name, values]) => [name, median(values)]));
  const nodeFloor = med.get("node -e 0")!;
  console.log(`start-up, median of ${repeats} interleaved runs (ms); ratios against the same run's rows`);
  console.log(
    `${"command".padEnd(22)}${"ms".padStart(8)}${"x node -e 0".padStart(13)}${"x erofs".padStart(10)}`,
  );
  for (const [name, ms] of med) {
    const reference = name.startsWith("mkdaxfs")
      ? med.get("mkfs.erofs")
      : name.startsWith("validate")
        ? med.get("fsck.erofs")
        : undefined;
    const vsErofs = reference ? (ms / reference).toFixed(1) : "";
    console.log(
      `${name.padEnd(22)}${ms.toFixed(1).padStart(8)}${(ms / nodeFloor).toFixed(2).padStart(13)}${vsErofs.padStart(10)}`,
    );
  }
  const ratio = (a: string, b: string) => (med.get(a)! / med.get(b)!).toFixed(2);
  console.log(
    `bundle / tsc dist: mkdaxfs ${ratio("mkdaxfs (bundle)", "mkdaxfs (tsc dist)")}, validate ${ratio("validate (bundle)", "validate (tsc dist)")}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
