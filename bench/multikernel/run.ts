// Several kernels on one memory (issue 11 items 3 and 4), in one boot of two QEMU guests on one
// pack (run.sh --guests 2):
//  - memory: N = 8 mounts of one image in one guest, and 4 + 4 across the two guests, every file
//    read through every mount, against 8 tmpfs copies of the same files in the same guest (the
//    reference: what a per-kernel copy costs). Guest RAM in use = MemTotal - MemFree after dropping
//    the page cache (echo 1 > drop_caches: tmpfs pages and slab stay), from /proc/meminfo.
//  - commit latency: both guests commit a branch of main at the same instant (guest/shmsync.c
//    barrier, then the remount system call): one wins, the other's branch was its sibling and gets
//    ESTALE. Reference: the same commits by guest 0 alone while guest 1 only keeps the barrier.
//    (Every commit ends in main and aborts main's other children, so two kernels cannot commit at
//    once without one invalidating the other: this is the contention there is.)
//  - split images (issue 11 item 4): one file of BENCH_SPLIT_MIB read twice (sequential, cat) from a
//    host mount (backing=, guest 0) and a spawn mount (guest 1, its misses filled by guest 0's fill
//    thread), with a page cache as large as the file (all pre-warmed) and a quarter of it (direct-mapped,
//    so a sequential pass evicts what the last one cached); throughput against the same file in a
//    non-split image in the same guest, hit rate from the kernel's counters (/proc/self/mountstats).
// TCG emulation makes absolute numbers meaningless; the ratios compare runs in the same boot.
//
//   npx tsx bench/multikernel/run.ts  (BENCH_KERNEL=6.12 BENCH_MIB=32 BENCH_ROUNDS=40 BENCH_SPLIT_MIB=8)
import { buildImage, buildSplitImage, makeDir, makeFile } from "@daxfs/core";
import { runGuest } from "../../test/qemu/bench.js";

const kernel = process.env.BENCH_KERNEL ?? "6.12";
const mib = Number(process.env.BENCH_MIB ?? 32);
const roundsCount = Number(process.env.BENCH_ROUNDS ?? 40);
const splitMib = Number(process.env.BENCH_SPLIT_MIB ?? 8);
const MiB = 1 << 20;

/** `mib` files of 1 MiB each, distinct bytes (nothing to share by accident). */
function image(): Uint8Array {
  const root = makeDir();
  const data = makeDir();
  for (let i = 0; i < mib; i++) {
    const bytes = new Uint8Array(MiB);
    let x = (i + 1) * 2654435761;
    for (let j = 0; j < bytes.length; j += 4) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[j] = x >>> 24;
      bytes[j + 1] = x >>> 16;
      bytes[j + 2] = x >>> 8;
      bytes[j + 3] = x;
    }
    data.children.set(`f${i}`, makeFile(bytes));
  }
  root.children.set("data", data);
  return buildImage(root, { branching: true, deltaSize: 128 * MiB });
}

const COMMON = `
used_kb() { sync; echo 1 > /proc/sys/vm/drop_caches; awk '/^MemTotal:/ { t = $2 } /^MemFree:/ { f = $2 } END { print t - f }' /proc/meminfo; }
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
opts() { echo "phys=$(img_phys $1),size=$(img_size $1)\${2:+,$2}"; }
readall() { cat $1/data/* > /dev/null; }
`;

/** Both guests at once (the barriers): 4 mounts each, every file read through each. */
const PAIR = `guest_barrier
u0=$(used_kb)
for i in 1 2 3 4; do mkdir -p /x$i; mount -t daxfs -o "$(opts img)" none /x$i; readall /x$i; done
guest_barrier
u4=$(used_kb)
echo "MEM pair $((u4 - u0))"
for i in 1 2 3 4; do umount /x$i; done
`;

/** Guest 0: 1 then 8 mounts, then 8 tmpfs copies; then 4 mounts while guest 1 holds 4. */
const MEMORY_0 = `${COMMON}
u0=$(used_kb); s0=$(slab_kb)
mkdir -p /d1; mount -t daxfs -o "$(opts img)" none /d1; readall /d1
u1=$(used_kb); s1=$(slab_kb)
for i in 2 3 4 5 6 7 8; do mkdir -p /d$i; mount -t daxfs -o "$(opts img)" none /d$i; readall /d$i; done
u8=$(used_kb); s8=$(slab_kb)
echo "MEM one $((u1 - u0)) slab $((s1 - s0))"
echo "MEM eight $((u8 - u0)) slab $((s8 - s0))"
echo "DATA $(du -sk /d1/data | cut -f1)"
for i in 2 3 4 5 6 7 8; do umount /d$i; done
ut0=$(used_kb)
for i in 1 2 3 4 5 6 7 8; do mkdir -p /t$i; mount -t tmpfs -o size=512m none /t$i; cp -r /d1/data /t$i/; readall /t$i; done
ut8=$(used_kb)
echo "MEM tmpfs8 $((ut8 - ut0))"
for i in 1 2 3 4 5 6 7 8; do umount /t$i; done
umount /d1
${PAIR}`;

/** Guest 1: idle while guest 0 measures alone, then 4 mounts of its own at the same time. */
const MEMORY_1 = `${COMMON}${PAIR}`;

/** Commit latency: MODE solo (guest 0 commits, guest 1 only keeps the barrier), race (both commit). */
const LATENCY = `${COMMON}
mkdir -p /c
round() { # MODE I
	if [ $1 = solo ] && [ $GUEST_ID != 0 ]; then guest_barrier; return; fi
	mount -t daxfs -o "$(opts img branch=$1_$2_$GUEST_ID,parent=main)" none /c
	head -c 16384 /dev/zero > /c/f_$1_$2_$GUEST_ID
	echo "LAT $1 $(guest_commit /c)"
	umount /c
}
for mode in solo race; do
	i=1
	while [ $i -le ${roundsCount} ]; do round $mode $i; i=$((i + 1)); done
done
`;

// The split file: 16-byte lines, written the same way by busybox awk in guest 0 (the backing file).
const splitLines = (splitMib * MiB) / 16;
const splitAwk = `awk 'BEGIN { for (i = 1; i <= ${splitLines}; i++) printf "line %010d\\n", i }'`;
const splitText = Array.from(
  { length: splitLines },
  (_, i) => `line ${String(i + 1).padStart(10, "0")}\n`,
).join("");
const splitTree = () => {
  const root = makeDir();
  root.children.set("data.txt", makeFile(splitText));
  return root;
};
function splitImage(slots: number): Uint8Array {
  const { image, backing } = buildSplitImage(splitTree(), {
    split: { pcacheSlots: slots },
    deltaSize: 4 * MiB,
  });
  if (Buffer.from(backing).toString("latin1") !== splitText)
    throw new Error("multikernel: unexpected backing layout");
  return image;
}
const splitPages = (splitMib * MiB) / 4096;

const SPLIT_COMMON = `${COMMON}
# timed NAME MNT: two sequential reads of MNT/data.txt, ms each (/proc/uptime: 10 ms steps; busybox
# date has no %N, and its awk's %d stops at 2^31), and the page-cache counters after.
timed() {
	for pass in 1 2; do
		t0=$(cut -d' ' -f1 /proc/uptime); cat $2/data.txt > /dev/null; t1=$(cut -d' ' -f1 /proc/uptime)
		echo "READ $1 $pass $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%d", (b - a) * 1000 }')"
	done
	awk -v m="mounted on $2 with" -v n="$1" 'index($0, m) { f = 1; next } /^device/ { f = 0 } f && /pcache-ops/ { print "OPS " n " " $0 }' /proc/self/mountstats
}
`;
const SPLIT_0 = `${SPLIT_COMMON}
${splitAwk} > /tmp/backing.img
mkdir -p /n /hf /hq
mount -t daxfs -o "$(opts ns)" none /n
mount -t daxfs -o "$(opts sf backing=/tmp/backing.img)" none /hf
mount -t daxfs -o "$(opts sq backing=/tmp/backing.img)" none /hq
timed nonsplit /n
timed host-full /hf
timed host-quarter /hq
guest_barrier
guest_barrier
umount /n /hf /hq
`;
const SPLIT_1 = `${SPLIT_COMMON}
guest_barrier
mkdir -p /n /sf /sq
mount -t daxfs -o "$(opts ns)" none /n
mount -t daxfs -o "$(opts sf)" none /sf
mount -t daxfs -o "$(opts sq)" none /sq
timed nonsplit-1 /n
timed spawn-full /sf
timed spawn-quarter /sq
umount /n /sf /sq
guest_barrier
`;

const run = await runGuest({
  kernel,
  guests: 2,
  images: [
    { name: "img", bytes: image() },
    { name: "ns", bytes: buildImage(splitTree(), { branching: true, deltaSize: 4 * MiB }) },
    { name: "sf", bytes: splitImage(splitPages) },
    { name: "sq", bytes: splitImage(splitPages / 4) },
  ],
  scenarios: [
    { name: "memory", script: MEMORY_0, guest: 0 },
    { name: "memory", script: MEMORY_1, guest: 1 },
    { name: "latency", script: LATENCY, guest: 0 },
    { name: "latency", script: LATENCY, guest: 1 },
    { name: "split", script: SPLIT_0, guest: 0 },
    { name: "split", script: SPLIT_1, guest: 1 },
  ],
  timeoutSec: 3600,
});

const output = (guest: number, name: string): string => {
  const result = run.guests[guest]?.scenarios.get(name);
  if (result?.exitCode !== 0) {
    console.error(
      `multikernel: guest ${guest} scenario ${name} failed:\n${result?.output ?? run.console.slice(-3000)}`,
    );
    process.exit(1);
  }
  return result.output;
};
const num = (text: string, re: RegExp): number => {
  const m = re.exec(text);
  if (!m) throw new Error(`multikernel: no ${re} in the guest output`);
  return Number(m[1]);
};

const mem0 = output(0, "memory");
const mem1 = output(1, "memory");
const data = num(mem0, /^DATA (\d+)$/m);
const one = num(mem0, /^MEM one (-?\d+)/m);
const eight = num(mem0, /^MEM eight (-?\d+)/m);
const slabEight = num(mem0, /^MEM eight -?\d+ slab (-?\d+)$/m);
const tmpfs8 = num(mem0, /^MEM tmpfs8 (-?\d+)$/m);
const pair = [num(mem0, /^MEM pair (-?\d+)$/m), num(mem1, /^MEM pair (-?\d+)$/m)];
console.log(
  `multikernel on Linux ${kernel} (two QEMU TCG guests, -smp 2 each, one pack), ${mib} MiB of file data`,
);
console.log("| configuration | guest RAM used (KiB) | per mount or copy (KiB) | vs one tmpfs copy |");
console.log("|---|---:|---:|---:|");
const row = (what: string, kb: number, per: number) =>
  console.log(`| ${what} | ${kb} | ${Math.round(per)} | ${(per / (tmpfs8 / 8)).toFixed(3)} |`);
row("1 daxfs mount, all read", one, one);
row("8 daxfs mounts, all read through each", eight, (eight - one) / 7);
row("8 tmpfs copies (reference)", tmpfs8, tmpfs8 / 8);
row("4 mounts in guest 0 while guest 1 holds 4", pair[0] as number, (pair[0] as number) / 4);
row("4 mounts in guest 1 while guest 0 holds 4", pair[1] as number, (pair[1] as number) / 4);
console.log(
  `data ${data} KiB; slab growth with 8 mounts ${slabEight} KiB; "per mount" of the 8-mount row is (8 - 1) / 7`,
);

function latencies(text: string, mode: string, outcome: "won" | "lost"): number[] {
  const re = new RegExp(`^LAT ${mode} ${outcome === "won" ? "won" : "lost [^\\d]+"} ?(\\d+)$`, "gm");
  return [...text.matchAll(re)].map((m) => Number(m[1]) / 1e6);
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number) : Number.NaN;
};
const lat0 = output(0, "latency");
const lat1 = output(1, "latency");
const solo = latencies(lat0, "solo", "won");
const raceWon = [...latencies(lat0, "race", "won"), ...latencies(lat1, "race", "won")];
const raceLost = [...latencies(lat0, "race", "lost"), ...latencies(lat1, "race", "lost")];
if (solo.length !== roundsCount || raceWon.length !== roundsCount || raceLost.length !== roundsCount) {
  console.error(`multikernel: expected ${roundsCount} commits in each case:\n${lat0}\n${lat1}`);
  process.exit(1);
}
console.log("");
console.log(
  `commit latency (ms, mount(2) MS_REMOUNT "commit" of a 16 KiB branch), ${roundsCount} rounds each`,
);
console.log("| case | n | p50 | p90 | max | p50 / solo p50 |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const [what, xs] of [
  ["one kernel alone (reference)", solo],
  ["two kernels at the same instant: the winner", raceWon],
  ["two kernels at the same instant: the loser (ESTALE)", raceLost],
] as const) {
  console.log(
    `| ${what} | ${xs.length} | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 90).toFixed(2)} | ${pct(xs, 100).toFixed(2)} | ${(pct(xs, 50) / pct(solo, 50)).toFixed(2)} |`,
  );
}

const split0 = output(0, "split");
const split1 = output(1, "split");
const splitOut = `${split0}\n${split1}`;
const readMs = (name: string, pass: number) =>
  num(splitOut, new RegExp(`^READ ${name} ${pass} (\\d+)$`, "m"));
const hitRate = (name: string): string => {
  const m = new RegExp(`^OPS ${name} .*hits (\\d+) misses (\\d+)`, "m").exec(splitOut);
  if (!m) return "-";
  const [hits, misses] = [Number(m[1]), Number(m[2])];
  return `${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)}%`;
};
console.log("");
console.log(
  `split images: ${splitMib} MiB file read sequentially twice (cat, timed in 10 ms steps); page cache = the file's ${splitPages} pages ("full", pre-warmed) or a quarter`,
);
console.log("| mount | pass | MiB/s | vs non-split in the same guest | page-cache hit rate (both passes) |");
console.log("|---|---:|---:|---:|---:|");
for (const [name, ref] of [
  ["nonsplit", "nonsplit"],
  ["host-full", "nonsplit"],
  ["host-quarter", "nonsplit"],
  ["nonsplit-1", "nonsplit-1"],
  ["spawn-full", "nonsplit-1"],
  ["spawn-quarter", "nonsplit-1"],
] as const) {
  for (const pass of [1, 2]) {
    const rate = splitMib / (Math.max(10, readMs(name, pass)) / 1e3);
    const refRate = splitMib / (Math.max(10, readMs(ref, pass)) / 1e3);
    console.log(
      `| ${name} | ${pass} | ${rate.toFixed(1)} | ${(rate / refRate).toFixed(3)} | ${name.startsWith("nonsplit") ? "-" : hitRate(name)} |`,
    );
  }
}
