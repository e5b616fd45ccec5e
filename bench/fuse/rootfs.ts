// daxfs-fuse vs erofsfuse on the same rootfs-like tree (issue 13 item 5; docs/benchmarks.md "FUSE").
// Both images are built from one directory (mkfs.erofs, mkdaxfs -b) and mounted read-only (main
// for daxfs-fuse). Three workloads, each on a fresh mount of each file system per round (so neither
// starts with kernel caches of names, attributes or pages from an earlier run; the image files
// themselves are read once first, so both come from the host's page cache):
//   tar     `tar -cf - . | cat >/dev/null`        a full read of the tree
//   find    `find . -ls >/dev/null`               a metadata walk
//   verify  `chroot MNT dpkg --verify` when the tree is a Debian rootfs with dpkg, else
//           `find . -type f -print0 | xargs -0 md5sum` (stat and md5 of every file)
// The host directory itself is the third column (page-cached after the first round). The last row
// is the mount itself (spawn until the mount serves; daxfs-fuse lists up to 20,000 entries of
// the tree into its binding's cache before it reports the mount, docs/fuse.md "Caching"). Rounds
// alternate which file system goes first; the median of BENCH_ROUNDS counts; ratio = daxfs-fuse /
// erofsfuse (lower is better, 1.00 = as fast). Needs root, erofsfuse and mkfs.erofs
// (scripts/build-erofsfuse.sh builds erofsfuse where Debian has no package for it).
//
//   npx tsx bench/fuse/rootfs.ts      BENCH_TREE=DIR (default: the debootstrap cache of the
//                                     rootfs tests if present, else ~7,000 entries copied from
//                                     /usr/lib and /usr/share) BENCH_ROUNDS=5 BENCH_DIR=/var/tmp
//                                     BENCH_DAXFS_FUSE=CLI.js (another daxfs-fuse build)
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const work = mkdtempSync(join(process.env.BENCH_DIR ?? "/var/tmp", "bench-fuse-rootfs-"));
const DEBOOTSTRAP_CACHE = "/var/cache/daxfs-test/rootfs/bookworm-minbase-amd64";
const SYNTHETIC_ENTRIES = 7000;
/** BENCH_DAXFS_FUSE=path/to/cli.js measures another build (e.g. the one before a change). */
const daxfsFuseCli = process.env.BENCH_DAXFS_FUSE ?? join(repoRoot, "packages/fuse-ref/dist/cli.js");

/** A tree of about `SYNTHETIC_ENTRIES` entries of this machine's /usr/lib and /usr/share. */
function syntheticTree(): string {
  const tree = join(work, "tree");
  mkdirSync(tree);
  let entries = 0;
  for (const top of ["/usr/lib", "/usr/share"]) {
    for (const name of readdirSync(top).sort()) {
      if (entries >= SYNTHETIC_ENTRIES) break;
      const from = join(top, name);
      const count = Number(
        execFileSync("sh", ["-c", `find "${from}" 2>/dev/null | wc -l`], { encoding: "utf8" }),
      );
      if (count > SYNTHETIC_ENTRIES - entries) continue;
      cpSync(from, join(tree, top.slice(1), name), { recursive: true, verbatimSymlinks: true });
      entries += count;
    }
  }
  return tree;
}

function chooseTree(): string {
  if (process.env.BENCH_TREE) return process.env.BENCH_TREE;
  if (existsSync(join(DEBOOTSTRAP_CACHE, "usr/bin/dpkg"))) return DEBOOTSTRAP_CACHE;
  return syntheticTree();
}

interface Workload {
  name: string;
  /** Runs in the mounted tree (cwd); returns what must be the same on every file system, if anything. */
  run(root: string): string;
}

function shell(command: string, cwd: string): string {
  const result = spawnSync("sh", ["-c", command], { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  if (result.status !== 0 && !command.includes("dpkg --verify"))
    throw new Error(`${command} in ${cwd}: exit ${result.status}: ${result.stderr}`);
  return result.stdout;
}

function workloads(tree: string): Workload[] {
  const dpkg = existsSync(join(tree, "usr/bin/dpkg")) && existsSync(join(tree, "var/lib/dpkg/info"));
  return [
    // Inode numbers, directory sizes and skipped device nodes differ between the two formats, so
    // these two are only required to succeed; the third's report must match.
    { name: "tar -cf - . | cat", run: (root) => shell("tar -cf - . | cat >/dev/null", root) },
    { name: "find . -ls", run: (root) => shell("find . -ls >/dev/null", root) },
    dpkg
      ? { name: "chroot dpkg --verify", run: (root) => shell(`chroot "${root}" dpkg --verify`, root) }
      : {
          name: "stat + md5sum of every file",
          run: (root) => shell("find . -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum", root),
        },
  ];
}

function mounted(mountpoint: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === mountpoint);
}

async function waitFor(ready: () => boolean, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!ready()) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${what} did not mount`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface FileSystem {
  name: string;
  /** Mounts; `ms` is the time until the mount serves (daxfs-fuse: until it says so). */
  mount(): Promise<{ root: string; ms: number; unmount(): Promise<void> }>;
}

function fuseDaemon(name: string, command: string[], image: string): FileSystem {
  const mountpoint = join(work, `mnt-${name}`);
  mkdirSync(mountpoint);
  return {
    name,
    async mount() {
      const start = process.hrtime.bigint();
      const child = spawn(command[0] as string, [...command.slice(1), image, mountpoint], {
        stdio: ["ignore", "pipe", name === "erofsfuse" ? "ignore" : "inherit"], // erofsfuse chats
      });
      let output = "";
      child.stdout?.on("data", (chunk) => (output += chunk));
      await waitFor(
        () => mounted(mountpoint) && (name !== "daxfs-fuse" || output.includes("mounted on")),
        child,
        name,
      );
      return {
        root: mountpoint,
        ms: Number(process.hrtime.bigint() - start) / 1e6,
        async unmount() {
          const exited = new Promise((r) => child.once("exit", r));
          spawnSync("fusermount", ["-u", mountpoint]);
          await exited;
        },
      };
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function timed(run: () => string): { ms: number; output: string } {
  const start = process.hrtime.bigint();
  const output = run();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, output };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("needs root (FUSE mounts, chroot)");
  for (const tool of ["erofsfuse", "mkfs.erofs"])
    if (spawnSync(tool, ["--help"]).error)
      throw new Error(`${tool} not found (scripts/setup.sh --all, scripts/build-erofsfuse.sh)`);
  const tree = chooseTree();
  const erofsImage = join(work, "tree.erofs");
  const daxfsImage = join(work, "tree.daxfs");
  execFileSync("mkfs.erofs", [erofsImage, tree], { stdio: "ignore" });
  execFileSync(
    process.execPath,
    [join(repoRoot, "packages/mkdaxfs/dist/bundle/cli.cjs"), "-d", tree, "-o", daxfsImage, "-b"],
    { stdio: "ignore" },
  );
  const entries = Number(shell("find . | wc -l", tree));
  const systems = [
    fuseDaemon("erofsfuse", ["erofsfuse", "-f"], erofsImage),
    fuseDaemon("daxfs-fuse", [process.execPath, daxfsFuseCli], daxfsImage),
  ];
  for (const image of [erofsImage, daxfsImage]) readFileSync(image); // both in the page cache
  const jobs = workloads(tree);
  const samples = new Map<string, number[]>();
  const outputs = new Map<string, string>();
  const record = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);
  for (let round = 0; round < rounds; round++) {
    for (const job of jobs) {
      const order = round % 2 === 0 ? systems : [...systems].reverse(); // neither always first
      for (const system of order) {
        const mount = await system.mount();
        record(`mount/${system.name}`, mount.ms);
        try {
          const { ms, output } = timed(() => job.run(mount.root));
          record(`${job.name}/${system.name}`, ms);
          const seen = outputs.get(job.name);
          if (seen === undefined) outputs.set(job.name, output);
          else if (seen !== output) throw new Error(`${job.name}: ${system.name} answered differently`);
        } finally {
          await mount.unmount();
        }
      }
      record(`${job.name}/host`, timed(() => job.run(tree)).ms);
    }
  }
  const size = (statSync(erofsImage).size / 2 ** 20).toFixed(0);
  console.log(
    `daxfs-fuse vs erofsfuse on ${tree} (${entries} entries; erofs image ${size} MiB), median of ${rounds} fresh mounts (ms)`,
  );
  console.log(
    `${"workload".padEnd(30)} ${"host".padStart(8)} ${"erofsfuse".padStart(10)} ${"daxfs-fuse".padStart(10)}  ratio`,
  );
  for (const name of [...jobs.map((job) => job.name), "mount"]) {
    const [host, erofs, daxfs] = ["host", "erofsfuse", "daxfs-fuse"].map((s) =>
      median(samples.get(`${name}/${s}`) ?? [Number.NaN]),
    ) as [number, number, number];
    console.log(
      `${name.padEnd(30)} ${(Number.isNaN(host) ? "-" : host.toFixed(0)).padStart(8)} ${erofs.toFixed(0).padStart(10)} ${daxfs.toFixed(0).padStart(10)}  ${(daxfs / erofs).toFixed(2)}`,
    );
  }
}

main()
  .catch((error: unknown) => {
    console.error(`bench/fuse/rootfs: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const name of readdirSync(work))
      if (name.startsWith("mnt-")) spawnSync("fusermount", ["-uz", join(work, name)]);
    rmSync(work, { recursive: true, force: true });
  });
