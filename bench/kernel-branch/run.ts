// Kernel branch write path speed (issue 9 item 10): in one QEMU guest boot, the same agent-like
// workload on a daxfs branch (phys= of the NVDIMM pack) and on tmpfs — untar a 2,000-file tree,
// overwrite 200 files in the middle, rename 200, delete 200, read everything back — reported as
// the ratio daxfs / tmpfs, plus the commit of the branch. TCG emulation makes absolute numbers
// meaningless; the ratio compares two in-kernel paths under the same emulation. BENCH_ROUNDS repeats
// the workload in the same boot (a fresh branch and tmpfs each round; every round but the last aborts
// its branch, the last commits it), since the shared machine makes single rounds swing; odd rounds
// run daxfs first, even rounds tmpfs first, so neither side always gets the fresher machine, and a
// last table gives each phase's median ratio over the rounds.
//
//   npx tsx bench/kernel-branch/run.ts        (BENCH_KERNEL=6.12 BENCH_FILES=2000 BENCH_ROUNDS=1)
import { buildImage, makeDir, makeFile } from "@daxfs/core";
import { runGuest } from "../../test/qemu/bench.js";

const kernel = process.env.BENCH_KERNEL ?? "6.12";
const files = Number(process.env.BENCH_FILES ?? 2000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);

const root = makeDir();
root.children.set("readme", makeFile("base\n"));
const image = buildImage(root, { branching: true, deltaSize: 256 << 20 });

// Elapsed time in ms from /proc/uptime (10 ms resolution; each phase takes far longer under TCG).
const script = `now() { awk '{ printf "%d\\n", $1 * 1000 }' /proc/uptime; }
mkdir -p /tmp/src
i=0
while [ $i -lt ${files} ]; do
  d=/tmp/src/d$((i % 40)); mkdir -p $d
  head -c $((1000 + (i * 37) % 20000)) /dev/urandom > $d/f$i
  i=$((i + 1))
done
tar -C /tmp/src -cf /tmp/tree.tar .
rm -rf /tmp/src
mkdir -p /mnt/b /tmp/t
r=1
while [ $r -le ${rounds} ]; do
mount -t daxfs -o "phys=$(img_phys img),size=$(img_size img),branch=bench$r,parent=main" none /mnt/b
mount -t tmpfs none /tmp/t
order="daxfs tmpfs"; [ $((r % 2)) -eq 1 ] || order="tmpfs daxfs"
for fs in $order; do
  if [ $fs = daxfs ]; then m=/mnt/b; else m=/tmp/t; fi
  t0=$(now)
  tar -C $m -xf /tmp/tree.tar
  t1=$(now)
  i=0; while [ $i -lt 200 ]; do printf 'OVERWRITTEN' | dd of=$m/d$((i % 40))/f$i bs=1 seek=500 conv=notrunc 2>/dev/null; i=$((i + 1)); done
  t2=$(now)
  i=200; while [ $i -lt 400 ]; do mv $m/d$((i % 40))/f$i $m/d$((i % 40))/r$i; i=$((i + 1)); done
  t3=$(now)
  i=400; while [ $i -lt 600 ]; do rm $m/d$((i % 40))/f$i; i=$((i + 1)); done
  t4=$(now)
  find $m -type f -exec cat {} + > /dev/null
  t5=$(now)
  echo "$r $fs untar $((t1 - t0))"
  echo "$r $fs overwrite $((t2 - t1))"
  echo "$r $fs rename $((t3 - t2))"
  echo "$r $fs delete $((t4 - t3))"
  echo "$r $fs read $((t5 - t4))"
  echo "$r $fs total $((t5 - t0))"
done
if [ $r -lt ${rounds} ]; then
  mount -o remount,abort /mnt/b
else
  c0=$(now); mount -o remount,commit /mnt/b; c1=$(now)
  echo "commit $((c1 - c0))"
fi
umount /mnt/b /tmp/t
r=$((r + 1))
done`;

const run = await runGuest({
  kernel,
  images: [{ name: "img", bytes: image }],
  scenarios: [{ name: "branch", script }],
  timeoutSec: 1800,
});
const result = run.scenarios.get("branch") ?? { exitCode: -1, output: run.console.slice(-3000), lines: [] };
if (result.exitCode !== 0) {
  console.error(`kernel-branch: guest scenario failed:\n${result.output}`);
  process.exit(1);
}
const value = (key: string) => Number(new RegExp(`^${key} (\\d+)$`, "m").exec(result.output)?.[1]);
console.log(`kernel-branch on Linux ${kernel} (QEMU TCG, -smp 2), ${files} files`);
for (let r = 1; r <= rounds; r++) {
  if (rounds > 1) console.log(`\nround ${r} of ${rounds}`);
  console.log("| phase | daxfs branch (ms) | tmpfs (ms) | daxfs / tmpfs |");
  console.log("|---|---:|---:|---:|");
  for (const phase of ["untar", "overwrite", "rename", "delete", "read", "total"]) {
    const dax = value(`${r} daxfs ${phase}`);
    const tmp = value(`${r} tmpfs ${phase}`);
    console.log(`| ${phase} | ${dax} | ${tmp} | ${(dax / Math.max(tmp, 1)).toFixed(2)} |`);
  }
}
if (rounds > 1) {
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const at = (i: number) => sorted[i] ?? Number.NaN;
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
  };
  console.log(`\nmedian over ${rounds} rounds`);
  console.log("| phase | daxfs / tmpfs |");
  console.log("|---|---:|");
  for (const phase of ["untar", "overwrite", "rename", "delete", "read", "total"]) {
    const ratios: number[] = [];
    for (let r = 1; r <= rounds; r++)
      ratios.push(value(`${r} daxfs ${phase}`) / Math.max(value(`${r} tmpfs ${phase}`), 1));
    console.log(`| ${phase} | ${median(ratios).toFixed(2)} |`);
  }
}
console.log(`commit of the branch: ${value("commit")} ms`);
