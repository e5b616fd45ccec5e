// Split images in daxfs.ko (issue 11 item 1; SPEC 5): base file data in a backing file, read
// through the page cache in the image. One 6.12 guest (--host-root, our CLIs in the guest) runs the
// public test script's split-mode rows (SPEC 6.1 rows 14-21), a 16-slot image whose misses a host
// mount fills inline and a spawn mount (daxfs-branch create) gets filled by the host's fill thread,
// page-cache statistics of the kernel (/proc/self/mountstats) against `daxfs-inspect status -m`,
// and the bad backing files (replaced, truncated, short at mount, no host at all) -> EIO plus one
// log line. Two 6.12 guests on one pack: a host mount in one, a spawn mount in the other, the same
// bytes, the spawn's misses filled by the other kernel. Without QEMU or 6.12 the suite is skipped.
import { createHash } from "node:crypto";
import { buildSplitImage, makeDir, makeFile } from "@daxfs/core";
import { beforeAll, describe, expect, it } from "vitest";
import { type GuestRun, installedKernels, runGuest } from "../qemu/bench.js";
import { PRELUDE } from "./shell-checks.js";

const MiB = 1 << 20;
const kernel = installedKernels().includes("6.12") ? "6.12" : undefined;

/** 256 KiB of 16-byte lines (64 backing pages), made the same way on the host and by busybox awk. */
const BIG_LINES = 16384;
const bigAwk = `awk 'BEGIN { for (i = 1; i <= ${BIG_LINES}; i++) printf "line %010d\\n", i }'`;
const bigText = Array.from({ length: BIG_LINES }, (_, i) => `line ${String(i + 1).padStart(10, "0")}\n`).join(
  "",
);
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

const TOOLS = `${PRELUDE}
inspect() { host_run node packages/inspect/dist/cli.js "$@"; }
branch() { host_run node packages/branch/dist/cli.js "$@"; }
mkdaxfs() { host_run node packages/mkdaxfs/dist/cli.js "$@"; }
# pcstats MNT NAME: the page-cache lines of MNT in /proc/self/mountstats, as "STATS NAME ...".
pcstats() { awk -v m="mounted on $1 with" -v n="$2" 'index($0, m) { f = 1; next } /^device/ { f = 0 } f && /pcache/ { sub(/^[ \\t]+/, ""); print "STATS " n " " $0 }' /proc/self/mountstats; }
# pcinspect MNT NAME: daxfs-inspect's slot states of the same image.
pcinspect() { inspect status -m "$1" | grep 'Slot states:' | sed "s/^ */INSPECT $2 /"; }
sum() { md5sum < "$1" | cut -d' ' -f1; }
# logged TEXT: 1 if the kernel logged TEXT once or a few times (once per failing read), not a flood.
logged() { n=$(dmesg | grep -c "$1"); [ "$n" -ge 1 ] && [ "$n" -le 3 ] && echo 1 || echo "$n"; }
`;

/** SPEC 6.1's source tree, plus big.txt (64 pages, for a 16-slot cache). */
const SOURCE = `src=/tmp/src; B=/tmp/split; mkdir -p $src/subdir $B /mnt/main /mnt/b1 /mnt/b2 /mnt/small /mnt/sp /mnt/t
printf 'Hello from base image' > $src/hello.txt
printf 'Original content' > $src/modify_me.txt
printf 'File in subdir' > $src/subdir/nested.txt
for i in 1 2 3 4 5 6 7 8 9 10; do printf "Content of file $i" > $src/file_$i; done
dd if=/dev/urandom of=$src/large.bin bs=1024 count=32 2>/dev/null
${bigAwk} > $src/big.txt
ln -s hello.txt $src/link_to_hello
`;

/** SPEC 6.1 rows 14-21 against our mkdaxfs, daxfs-branch, daxfs-inspect and daxfs.ko, with the public script's sizes (-s 128M, default delta region). */
const ROWS = `${TOOLS}${SOURCE}
ok r14.create mkdaxfs -d $src -H /dev/dma_heap/system -s 128M -m /mnt/main -o $B/backing.img -b
ok r14.backing test -s $B/backing.img
ok r14.mounted grep -q ' /mnt/main ' /proc/mounts
grep ' /mnt/main ' /proc/mounts | sed 's/^/MOUNT /'
for f in hello.txt modify_me.txt subdir/nested.txt file_1 file_2 file_3 file_4 file_5 file_6 file_7 file_8 file_9 file_10; do
  ok r15.$f cmp $src/$f /mnt/main/$f
done
is r16.md5 "$(sum /mnt/main/large.bin)" "$(sum $src/large.bin)"
ok r17.link test -L /mnt/main/link_to_hello
is r17.target "$(readlink /mnt/main/link_to_hello)" hello.txt
is r17.read "$(cat /mnt/main/link_to_hello)" "Hello from base image"
is r18.dd "$(dd if=/mnt/main/hello.txt bs=4096 count=1 2>/dev/null)" "Hello from base image"
# And real mappings: pages assembled from the page cache equal read(2).
ok r18.mmap mmapcheck /mnt/main/hello.txt /mnt/main/large.bin /mnt/main/big.txt
ok r19.create branch create branch1 -m /mnt/b1 -p main
is r19.base "$(cat /mnt/b1/hello.txt)" "Hello from base image"
echo "new in branch1" > /mnt/b1/new_file.txt
echo "modified in branch1" > /mnt/b1/modify_me.txt
is r19.new "$(cat /mnt/b1/new_file.txt)" "new in branch1"
is r19.overwrite "$(cat /mnt/b1/modify_me.txt)" "modified in branch1"
ok r20.create branch create branch2 -m /mnt/b2 -p main
is r20.original "$(cat /mnt/b2/modify_me.txt)" "Original content"
no r20.isolated test -e /mnt/b2/new_file.txt
is r20.md5 "$(sum /mnt/b2/large.bin)" "$(sum $src/large.bin)"
inspect status -m /mnt/main > $B/status 2>&1
sed 's/^/STATUS /' $B/status
ok r21.pcache grep -q 'Page cache:' $B/status
ok r21.slots grep -q 'Slots:' $B/status
ok r21.states grep -q 'Slot states:' $B/status
no r21.nonzero grep -q ' 0 valid' $B/status
pcstats /mnt/main main
# daxfs-branch create takes its memory from a daxfs mount: leave none of this image behind.
umount /mnt/b1 /mnt/b2 /mnt/main
echo DONE
`;

/** A 16-slot cache for 64+ backing pages: misses, evictions, fills, and the spawn side. */
const MISSES = `${TOOLS}${SOURCE}
ok m.create mkdaxfs -d $src -H /dev/dma_heap/system -C 16 -D 4M -m /mnt/small -o $B/small.img -b
is m.big "$(sum /mnt/small/big.txt)" "$(sum $src/big.txt)"
is m.again "$(sum /mnt/small/big.txt)" "$(sum $src/big.txt)"
ok m.mmap mmapcheck /mnt/small/big.txt /mnt/small/large.bin
pcstats /mnt/small host
pcinspect /mnt/small host
ok s.create branch create sp -m /mnt/sp -p main
is s.large "$(sum /mnt/sp/large.bin)" "$(sum $src/large.bin)"
is s.big "$(sum /mnt/sp/big.txt)" "$(sum $src/big.txt)"
pcstats /mnt/sp spawn
pcinspect /mnt/sp spawn
# Replaced under the host: cached pages (big.txt's last 16: it is first in the backing file)
# still read, a miss is EIO with one log line.
cp $B/small.img $B/copy && mv $B/copy $B/small.img
ok e.cached dd if=/mnt/small/big.txt of=/dev/null bs=4096 skip=63 count=1
no e.replaced dd if=/mnt/small/big.txt of=/dev/null bs=4096 count=1
is e.replaced.log "$(logged 'backing file small.img changed or was replaced')" 1
umount /mnt/sp; umount /mnt/small
# Truncated under the host.
ok t.create mkdaxfs -d $src -H /dev/dma_heap/system -C 16 -D 4M -m /mnt/t -o $B/t.img -b
truncate -s 65536 $B/t.img
no t.read cat /mnt/t/big.txt
is t.log "$(logged 'backing file t.img changed or was replaced')" 1
pcstats /mnt/t truncated
umount /mnt/t
# Shorter than the image needs at mount (phys=, so that it can be mounted again): pages the
# builder pre-warmed (backing pages 0..15: big.txt's first 16) still read, others fail with EIO.
AP=$(img_phys area) AS=$(img_size area)
ok short.create mkdaxfs -d $src -p $AP -s $AS -C 16 -D 4M -o $B/short.img -b
truncate -s 32768 $B/short.img
ok short.mount daxmount area /mnt/short backing=$B/short.img
is short.warned "$(logged 'backing file /tmp/split/short.img has 32768 bytes, the image needs')" 1
ok short.cached dd if=/mnt/short/big.txt of=/dev/null bs=4096 count=16
no short.big cat /mnt/short/big.txt
is short.log "$(logged 'page 1[6-9]: shorter than the image needs')" 1
umount /mnt/short
# No host at all: a spawn mount waits a bounded time, then EIO and one line; the count is back.
ok nohost.mount daxmount area /mnt/nohost
no nohost.big cat /mnt/nohost/big.txt
is nohost.log "$(logged 'no host mount filled backing page')" 1
pcstats /mnt/nohost nohost
umount /mnt/nohost
no badpath.backing daxmount area /mnt/x backing=/nonexistent
echo DONE
`;

/**
 * Two guests: a host mount (backing=) in guest 0, a spawn mount in guest 1. The spawn reads alone
 * first (its misses filled by guest 0's fill thread), then both read the file three times at once:
 * 64 pages through 16 slots, so the two kernels evict each other's pages all the time, and every
 * copy must still be whole (a torn copy would change the checksum).
 */
const pcstatsOf = (mnt: string) =>
  `awk 'index($0, "mounted on ${mnt} with") { f = 1; next } /^device/ { f = 0 } f && /pcache/ { sub(/^[ \\t]+/, ""); print "STATS " $0 }' /proc/self/mountstats`;
const TWO_HOST = `${PRELUDE}
${bigAwk} > /tmp/backing.img
ok host.mount mnt sp /h backing=/tmp/backing.img
guest_barrier
guest_barrier
for i in 1 2 3; do echo "MD5 $(md5sum < /h/big.txt | cut -d' ' -f1)"; done
guest_barrier
${pcstatsOf("/h")}
umount /h
echo DONE
`;
const TWO_SPAWN = `${PRELUDE}
guest_barrier
ok spawn.mount mnt sp /s
echo "MD5 $(md5sum < /s/big.txt | cut -d' ' -f1)"
guest_barrier
for i in 1 2 3; do echo "MD5 $(md5sum < /s/big.txt | cut -d' ' -f1)"; done
guest_barrier
${pcstatsOf("/s")}
umount /s
echo DONE
`;

function splitImage() {
  const root = makeDir();
  root.children.set("big.txt", makeFile(bigText));
  const { image, backing } = buildSplitImage(root, { split: { pcacheSlots: 16 }, deltaSize: 4 * MiB });
  // The guest's awk writes the backing file: it must be exactly what the builder wrote.
  expect(Buffer.from(backing).toString("latin1")).toBe(bigText);
  return image;
}

type Stats = Record<string, number | string>;
/** "STATS NAME pcache: role host slots 16 ..." lines of NAME, merged into one record. */
function stats(lines: string[], name?: string): Stats {
  const out: Stats = {};
  const prefix = name ? `STATS ${name} ` : "STATS ";
  for (const line of lines.filter((l) => l.startsWith(prefix))) {
    const words = line.slice(prefix.length).split(/\s+/).slice(1);
    for (let i = 0; i + 1 < words.length; i += 2) {
      const v = words[i + 1] as string;
      out[words[i] as string] = /^\d+$/.test(v) ? Number(v) : v;
    }
  }
  return out;
}

function checked(lines: string[]) {
  expect(lines).toContain("DONE");
  expect(lines.filter((l) => l.startsWith("BAD "))).toEqual([]);
}

describe.skipIf(!kernel)("split images in daxfs.ko (Linux 6.12)", () => {
  let one: GuestRun;
  let two: GuestRun;
  beforeAll(async () => {
    one = await runGuest({
      kernel: kernel as string,
      images: [{ name: "area", bytes: new Uint8Array(16 * MiB) }],
      scenarios: [
        { name: "rows", script: ROWS },
        { name: "misses", script: MISSES },
      ],
      hostRoot: true,
      timeoutSec: 600,
    });
    two = await runGuest({
      kernel: kernel as string,
      guests: 2,
      images: [{ name: "sp", bytes: splitImage() }],
      scenarios: [
        { name: "two", script: TWO_HOST, guest: 0 },
        { name: "two", script: TWO_SPAWN, guest: 1 },
      ],
      timeoutSec: 300,
    });
  }, 1_200_000);

  const lines = (run: GuestRun, name: string, guest = 0) =>
    run.guests[guest]?.scenarios.get(name)?.lines ?? [];

  it("SPEC 6.1 rows 14-21: split create and mount, reads, large file, symlink, dd, branches, inspect", () => {
    const out = lines(one, "rows");
    checked(out);
    const oks = out.filter((l) => l.startsWith("OK ")).map((l) => l.split(/[ :]/)[1]);
    for (const row of [
      "r14.create",
      "r15.file_10",
      "r16.md5",
      "r17.read",
      "r18.dd",
      "r19.overwrite",
      "r20.md5",
    ])
      expect(oks).toContain(row);
    expect(oks).toContain("r21.nonzero");
    // The mkdaxfs -H mount is a host of the page cache.
    expect(out).toContainEqual(
      expect.stringMatching(/^MOUNT .* \/mnt\/main daxfs .*backing=\/tmp\/split\/backing.img/),
    );
    expect(stats(out, "main")).toMatchObject({ role: "host", pending_count: 0, errors: 0 });
  });

  it("a 16-slot cache: the host fills misses inline, the spawn's misses are filled by the host's fill thread", () => {
    const out = lines(one, "misses");
    checked(out);
    const host = stats(out, "host");
    expect(host).toMatchObject({ role: "host", slots: 16, pending: 0, pending_count: 0, errors: 0 });
    expect(host.misses as number).toBeGreaterThanOrEqual(48); // pages 16..63 were not pre-warmed
    expect(host.fills as number).toBeGreaterThanOrEqual(host.misses as number);
    expect(host.evictions as number).toBeGreaterThan(0);
    const spawn = stats(out, "spawn");
    expect(spawn).toMatchObject({ role: "spawn", pending: 0, pending_count: 0, errors: 0, fills: 0 });
    expect(spawn.misses as number).toBeGreaterThan(0);
    expect(spawn.waits as number).toBeGreaterThan(0);
    // daxfs-inspect status -m reads the same slot states as the kernel counted.
    for (const [name, s] of [
      ["host", host],
      ["spawn", spawn],
    ] as const) {
      const line = out.find((l) => l.startsWith(`INSPECT ${name} `)) ?? "";
      expect(line).toMatch(
        new RegExp(`Slot states: +${s.valid} valid, ${s.free} free, ${s.pending} pending`),
      );
    }
  });

  it("a replaced, truncated or short backing file and a spawn without a host: EIO and one log line", () => {
    const out = lines(one, "misses");
    checked(out);
    const oks = out.filter((l) => l.startsWith("OK ")).map((l) => l.split(/[ :]/)[1]);
    for (const check of ["e.cached", "e.replaced", "t.read", "short.cached", "short.big", "nohost.big"])
      expect(oks).toContain(check);
    expect(stats(out, "truncated")).toMatchObject({ role: "host", pending_count: 0 });
    // The spawn gave its claim back: nothing stays pending, the count did not drift.
    const nohost = stats(out, "nohost");
    expect(nohost).toMatchObject({ role: "spawn", pending: 0, pending_count: 0 });
    expect(nohost.errors as number).toBeGreaterThanOrEqual(1); // one per failing read(2) of cat
  });

  it("two kernels: a host mount in one and a spawn mount in the other read the same bytes, also while evicting each other's pages", () => {
    const host = lines(two, "two", 0);
    const spawn = lines(two, "two", 1);
    checked(host);
    checked(spawn);
    // Every read, alone and while the other kernel evicts the same slots, got the file's bytes.
    expect(host.filter((l) => l.startsWith("MD5 "))).toEqual(Array(3).fill(`MD5 ${md5(bigText)}`));
    expect(spawn.filter((l) => l.startsWith("MD5 "))).toEqual(Array(4).fill(`MD5 ${md5(bigText)}`));
    // Pages 16..63 were not pre-warmed: the spawn waited, guest 0's fill thread filled them.
    expect(stats(spawn)).toMatchObject({ role: "spawn", fills: 0, errors: 0, pending_count: 0 });
    expect(stats(spawn).misses as number).toBeGreaterThanOrEqual(48);
    expect(stats(host).fills as number).toBeGreaterThanOrEqual(48);
  });
});
