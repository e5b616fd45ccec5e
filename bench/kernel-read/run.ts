// Kernel read path speed (issue 5): in one QEMU guest boot, sequential and random read throughput
// of a 256 MiB file on a daxfs mount (phys= of the NVDIMM pack) against the same bytes on tmpfs,
// reported as ratios (docs/benchmarks.md). TCG emulation makes absolute numbers meaningless; the
// ratio compares two in-kernel copy paths under the same emulation.
//
//   npx tsx bench/kernel-read/run.ts                  (BENCH_KERNEL=6.1 BENCH_MIB=256 BENCH_SECONDS=5)
import { buildImage, makeDir, makeFile } from "@daxfs/core";
import { runGuest } from "../../test/qemu/bench.js";

const kernel = process.env.BENCH_KERNEL ?? "6.12";
const mib = Number(process.env.BENCH_MIB ?? 256);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

const data = new Uint8Array(mib << 20);
for (let i = 0; i < data.length; i += 4096) data[i] = (i >>> 12) & 0xff;
const root = makeDir();
root.children.set("big", makeFile(data));

const script = `daxmount big /mnt/d
cp /mnt/d/big /tmp/big
cmp /mnt/d/big /tmp/big || exit 1
for fs in daxfs tmpfs; do
  if [ $fs = daxfs ]; then f=/mnt/d/big; else f=/tmp/big; fi
  readbench $f ${seconds} | sed "s/^/$fs /"
done
rm /tmp/big
umount /mnt/d`;

const run = await runGuest({
  kernel,
  images: [{ name: "big", bytes: buildImage(root) }],
  scenarios: [{ name: "read", script }],
  timeoutSec: 600,
});
const result = run.scenarios.get("read") ?? { exitCode: -1, output: run.console.slice(-3000), lines: [] };
if (result.exitCode !== 0) {
  console.error(`kernel-read: guest scenario failed:\n${result.output}`);
  process.exit(1);
}
const value = (fs: string, what: string) =>
  Number(new RegExp(`^${fs} ${what} ([\\d.]+)$`, "m").exec(result.output)?.[1]);
const rows = [
  ["sequential read (MiB/s)", value("daxfs", "SEQ"), value("tmpfs", "SEQ")],
  ["random 4 KiB reads (/s)", value("daxfs", "RAND"), value("tmpfs", "RAND")],
] as const;
console.log(
  `kernel-read on Linux ${kernel} (QEMU TCG, -smp 2), ${mib} MiB file, ${seconds} s per measurement`,
);
console.log("| measurement | daxfs | tmpfs | daxfs / tmpfs |");
console.log("|---|---:|---:|---:|");
for (const [name, dax, tmp] of rows)
  console.log(`| ${name} | ${dax.toFixed(0)} | ${tmp.toFixed(0)} | ${(dax / tmp).toFixed(2)} |`);
