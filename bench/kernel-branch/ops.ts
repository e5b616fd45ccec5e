// Where the untar and read phases of bench/kernel-branch spend their time: in one QEMU guest boot,
// the system calls busybox tar makes to extract the tree (mkdir, unlink, open O_CREAT, one sendfile
// from the archive, or a read and a write where sendfile fails, close, chown, chmod, utimensat) and
// those of reading it back (stat, open, sendfile, close), made by the static helper
// test/qemu/guest/opbench.c on a daxfs branch and on tmpfs, each kind timed apart. The ratio per
// call kind says which path to work on; TCG makes absolute numbers meaningless. BENCH_TRACE=1 adds
// a pass under ftrace's function_graph tracer limited to daxfs.ko's functions and prints the 25
// costliest by total time (durations inflated by tracing; compare them among themselves).
//
//   npx tsx bench/kernel-branch/ops.ts     (BENCH_KERNEL=6.12 BENCH_FILES=2000 BENCH_ROUNDS=2)
import { buildImage, makeDir, makeFile } from "@daxfs/core";
import { runGuest } from "../../test/qemu/bench.js";

const kernel = process.env.BENCH_KERNEL ?? "6.12";
const files = Number(process.env.BENCH_FILES ?? 2000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const trace = process.env.BENCH_TRACE === "1";

const root = makeDir();
root.children.set("readme", makeFile("base\n"));
const image = buildImage(root, { branching: true, deltaSize: 256 << 20 });

const script = `mkdir -p /mnt/b /tmp/t
head -c 21000 /dev/urandom > /tmp/src
r=1
while [ $r -le ${rounds} ]; do
  mount -t daxfs -o "phys=$(img_phys img),size=$(img_size img),branch=ops$r,parent=main" none /mnt/b
  mount -t tmpfs none /tmp/t
  opbench /mnt/b /tmp/src ${files} | sed "s/^OP/$r daxfs/"
  opbench /tmp/t /tmp/src ${files} | sed "s/^OP/$r tmpfs/"
  mount -o remount,abort /mnt/b
  umount /mnt/b /tmp/t
  r=$((r + 1))
done
${
  trace
    ? `T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs none $T
echo 0 > $T/tracing_on
echo 65536 > $T/buffer_size_kb
echo ':mod:daxfs' > $T/set_ftrace_filter
echo function_graph > $T/current_tracer
echo 1 > $T/options/funcgraph-tail
mount -t daxfs -o "phys=$(img_phys img),size=$(img_size img),branch=trace,parent=main" none /mnt/b
echo 1 > $T/tracing_on
opbench /mnt/b /tmp/src ${Math.min(files, 500)} > /dev/null
echo 0 > $T/tracing_on
# "  us |  name();" (a leaf) or "  us |  } /* name */" (the end of a caller).
awk -F'|' 'NF >= 2 && $1 ~ /us/ {
    d = $1; sub(/.*[)!#*@+] */, "", d); sub(/ *us.*/, "", d);
    f = $2; if (f ~ /\\/\\*/) { sub(/.*\\/\\* /, "", f); sub(/ \\*\\/.*/, "", f) } else { sub(/\\(.*/, "", f) }
    gsub(/[ }{;]/, "", f); if (f == "") next;
    t[f] += d; n[f]++ }
  END { for (f in t) printf "TRACE %s %d %.0f\\n", f, n[f], t[f] }' $T/trace | sort -k4 -n -r | head -25
echo nop > $T/current_tracer
mount -o remount,abort /mnt/b
umount /mnt/b`
    : ""
}`;

const run = await runGuest({
  kernel,
  images: [{ name: "img", bytes: image }],
  scenarios: [{ name: "ops", script }],
  timeoutSec: 1800,
});
const result = run.scenarios.get("ops") ?? { exitCode: -1, output: run.console.slice(-3000), lines: [] };
if (result.exitCode !== 0) {
  console.error(`kernel-branch ops: guest scenario failed:\n${result.output}`);
  process.exit(1);
}
const line = (r: number, fs: string, op: string) =>
  new RegExp(`^${r} ${fs} ${op} (\\d+) (\\d+)$`, "m").exec(result.output);
const ops = [
  "mkdir",
  "unlink",
  "creat",
  "copy_in",
  "close",
  "chown",
  "chmod",
  "utimes",
  "stat",
  "open",
  "sendfile",
  "close_r",
];
console.log(`kernel-branch system calls on Linux ${kernel} (QEMU TCG, -smp 2), ${files} files`);
for (let r = 1; r <= rounds; r++) {
  console.log(`\nround ${r} of ${rounds}`);
  console.log("| call | calls | daxfs branch (us/call) | tmpfs (us/call) | daxfs / tmpfs |");
  console.log("|---|---:|---:|---:|---:|");
  for (const op of ops) {
    const dax = line(r, "daxfs", op);
    const tmp = line(r, "tmpfs", op);
    if (!dax || !tmp) throw new Error(`kernel-branch ops: no ${op} line for round ${r}:\n${result.output}`);
    const perDax = Number(dax[2]) / Math.max(Number(dax[1]), 1);
    const perTmp = Number(tmp[2]) / Math.max(Number(tmp[1]), 1);
    console.log(
      `| ${op} | ${dax[1]} | ${perDax.toFixed(1)} | ${perTmp.toFixed(1)} | ${(perDax / Math.max(perTmp, 0.1)).toFixed(2)} |`,
    );
  }
}
if (trace) {
  console.log("\nftrace function_graph, daxfs.ko functions by total time (inclusive):");
  console.log("| function | calls | total us |");
  console.log("|---|---:|---:|");
  for (const m of result.output.matchAll(/^TRACE (\S+) (\d+) (\d+)$/gm))
    console.log(`| ${m[1]} | ${m[2]} | ${m[3]} |`);
}
