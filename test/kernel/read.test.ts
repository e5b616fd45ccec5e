// Kernel module, read path (issue 5): one QEMU boot per kernel runs every scenario; each `it`
// checks one scenario's output. Needs qemu-system-x86, busybox-static and the kernel images and
// headers (test/qemu/README.md); without them the suite is reported as skipped, not passed.
import { buildImage, DaxfsImage, encodeName, MemoryImage, S_IFDIR, S_IFLNK, validate } from "@daxfs/core";
import { beforeAll, describe, expect, it } from "vitest";
import { type GuestRun, installedKernels, runGuest } from "../qemu/bench.js";
import { byteNamesImage, corruptImages, fuzzedImages, mainLogImage, mergedLogImage } from "./fixture.js";
import { expectedWalk, sourceTree } from "./tree.js";
import { coreWalk, parseWalk, walkScript } from "./walk.js";

const kernels = installedKernels();
const BIG = 24 << 20;
const tree = sourceTree({ bigFileBytes: BIG });
const corrupt = corruptImages();
const mainLog = mainLogImage();
const mergedLog = mergedLogImage();
const byteNames = byteNamesImage();
const fuzzed = fuzzedImages(
  Number(process.env.DAXFS_KERNEL_FUZZ ?? 40),
  Number(process.env.DAXFS_KERNEL_FUZZ_SEED ?? 20261123),
);

function scenarios(kernel: string) {
  const list = [
    { name: "walk", script: `daxmount tree /mnt/t validate\n${walkScript("/mnt/t")}` },
    { name: "dirwalk", script: "dirwalk /mnt/t" },
    { name: "mmap", script: "find /mnt/t -type f -size +0 -exec mmapcheck {} +" },
    {
      name: "pagecache",
      script: `sync; echo 3 > /proc/sys/vm/drop_caches
before=$(cached_kb)
for i in 1 2 3; do find /mnt/t -type f -exec cat {} + > /dev/null; done
after=$(cached_kb)
echo "CACHED $before $after"`,
    },
    {
      name: "readonly",
      script: `stat -f -c 'STATFS %t %S %b %l' /mnt/t
touch /mnt/t/new 2>&1 | sed 's/^/TOUCH /'
mount -o remount,rw /mnt/t 2>&1 | sed 's/^/REMOUNT /'
grep ' /mnt/t ' /proc/mounts | sed 's/^/MOUNTS /'
daxmount tree /mnt/t2 && cmp /mnt/t/files/big /mnt/t2/files/big && echo "SECOND-MOUNT ok"
umount /mnt/t2
daxmount mainlog /mnt/m2 && stat -f -c 'BRANCHING %t %c' /mnt/m2 && grep ' /mnt/m2 ' /proc/mounts | sed 's/^/MOUNTS2 /'
umount /mnt/m2`,
    },
    {
      name: "options",
      script: `for o in "bogus=1" "phys=zz,size=4096" "phys=$(img_phys tree)" "phys=0x1000000,size=4194304"; do
  mkdir -p /mnt/o
  if err=$(mount -t daxfs -o "$o" none /mnt/o 2>&1); then echo "ACCEPTED $o"; umount /mnt/o; else echo "REFUSED $o|$(last_kmsg)|$err"; fi
done`,
    },
    {
      name: "mainlog",
      script: `daxmount mainlog /mnt/m validate
${walkScript("/mnt/m")}
head -c 12 /mnt/m/b | od -An -c | sed 's/^/BBYTES/'
find /mnt/m -type f -size +0 -exec mmapcheck {} + | sed 's/^/MMAP /'
umount /mnt/m`,
    },
    {
      name: "corrupt",
      script: corrupt
        .map(
          (
            c,
          ) => `if err=$(daxmount ${c.name} /mnt/${c.name} validate 2>&1); then echo "ACCEPTED ${c.name}"; umount /mnt/${c.name}; else echo "REFUSED ${c.name}|$(last_kmsg)|$err"; fi
if daxmount ${c.name} /mnt/${c.name} 2>/dev/null; then echo "MOUNTED ${c.name}"; find /mnt/${c.name} -exec cat {} + >/dev/null 2>&1; ls -lR /mnt/${c.name} >/dev/null 2>&1; umount /mnt/${c.name}; else echo "UNMOUNTED ${c.name}"; fi`,
        )
        .join("\n"),
    },
  ];
  list.push({
    name: "fuzz",
    script: `exercise() {
  # The first MiB of each file: a damaged log may leave a sparse file of terabytes.
  find "$1" -type f -exec head -c 1048576 {} + >/dev/null 2>&1 || return 1
  ls -lR "$1" >/dev/null 2>&1 || return 1
  find "$1" -type l -exec readlink {} ';' >/dev/null 2>&1 || return 1
  find "$1" -type f -size +0 -size -65536k -exec mmapcheck {} + >/dev/null 2>&1 || return 1
}
for f in ${fuzzed.map((f) => f.name).join(" ")}; do
  if daxmount $f /mnt/$f validate 2>/dev/null; then
    if exercise /mnt/$f; then echo "VALID-OK $f"; else echo "VALID-ERRORS $f"; fi
    umount /mnt/$f
  else
    echo "VALIDATE-REFUSED $f"
  fi
  if daxmount $f /mnt/$f 2>/dev/null; then exercise /mnt/$f; echo "TRUSTED-DONE $f"; umount /mnt/$f; else echo "TRUSTED-REFUSED $f"; fi
done`,
  });
  list.push({
    // Every name and target as hex, so nothing on the way (console, UTF-8 decoding) can alter it;
    // each file is opened by the bytes the kernel's readdir gave.
    name: "bytenames",
    script: `daxmount bytenames /mnt/n validate
cd /mnt/n
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \\n'; }
# Globs, not find | read: a name may hold a newline.
for p in ./* ./*/*; do
  [ -e "$p" ] || [ -L "$p" ] || continue
  if [ -L "$p" ]; then c="L$(hex "$(readlink "$p")")"; elif [ -f "$p" ]; then c="F$(hex "$(cat "$p")")"; else c=D; fi
  echo "N|$(hex "$p")|$c"
done
cd /
umount /mnt/n`,
  });
  list.push({
    name: "mergedlog",
    script: `daxmount mergedlog /mnt/g validate\n${walkScript("/mnt/g")}\numount /mnt/g`,
  });
  if (kernel === "6.12") {
    list.push({
      name: "dmabuf",
      script: `mkdir -p /mnt/d; dmabuf-mount $(img_phys tree) $(img_size tree) /mnt/d
cmp /mnt/d/files/big /mnt/t/files/big && echo "SAME big"
find /mnt/d -type f -size +0 -exec mmapcheck {} + | grep -c '^OK ' | sed 's/^/MMAP-OK /'
find /mnt/d -type f -size +0 -exec mmapcheck {} + | grep '^FAIL'
umount /mnt/d && echo "UMOUNT ok"`,
    });
  }
  list.push({ name: "umount", script: "umount /mnt/t && echo UMOUNT ok" });
  return list;
}

describe.skipIf(kernels.length === 0).each(kernels)("daxfs.ko read path on Linux %s", (kernel) => {
  let run: GuestRun;
  beforeAll(async () => {
    run = await runGuest({
      kernel,
      images: [
        { name: "tree", bytes: buildImage(tree) },
        { name: "mainlog", bytes: mainLog },
        { name: "mergedlog", bytes: mergedLog },
        { name: "bytenames", bytes: byteNames },
        ...corrupt.map((c) => ({ name: c.name, bytes: c.bytes })),
        ...fuzzed,
      ],
      scenarios: scenarios(kernel),
      timeoutSec: 240,
    });
  }, 1_800_000); // includes the wait for other suites' guests (DAXFS_GUEST_LOCK)

  const result = (name: string) => {
    const r = run.scenarios.get(name);
    if (!r) throw new Error(`scenario ${name} did not run; console:\n${run.console.slice(-3000)}`);
    return r;
  };

  it("walks the mounted tree exactly as the source tree (paths, types, modes, owners, sizes, links, contents)", () => {
    const r = result("walk");
    expect(r.exitCode, r.output.slice(-2000)).toBe(0);
    const walked = parseWalk(r.lines).map(({ blocks, ...rest }) => rest);
    expect(walked).toEqual(expectedWalk(tree));
  });

  it("reports blocks as whole 4096-byte blocks of the size", () => {
    for (const e of parseWalk(result("walk").lines))
      expect(e.blocks, e.path).toBe(Math.ceil(e.size / 4096) * 8);
  });

  it("gives readdir the right d_type and inode, and positions that survive seekdir", () => {
    const r = result("dirwalk");
    expect(r.output).not.toContain("SEEK-MISMATCH");
    expect(r.exitCode).toBe(0);
    const expected = new Map(expectedWalk(tree).map((e) => [e.path.replace(/^\./, "/mnt/t"), e.mode]));
    const S_IFMT = 0o170000;
    const dtype = (mode: number) =>
      new Map([
        [0o040000, 4],
        [0o100000, 8],
        [0o120000, 10],
      ]).get(mode & S_IFMT);
    const lines = r.lines.filter((l) => l.startsWith("/mnt/t/"));
    // Hard links: one inode under three names.
    const inoOf = (path: string) => lines.find((l) => l.startsWith(`${path}|`))?.split("|")[2];
    expect(inoOf("/mnt/t/hard-a")).toBeDefined();
    expect(inoOf("/mnt/t/links/hard-b")).toBe(inoOf("/mnt/t/hard-a"));
    expect(inoOf("/mnt/t/many/hard-c")).toBe(inoOf("/mnt/t/hard-a"));
    expect(lines.length).toBe(expected.size - 1);
    for (const line of lines) {
      const [path, type] = line.split("|") as [string, string];
      expect(Number(type), path).toBe(dtype(expected.get(path) ?? 0));
    }
  });

  it("serves mmap reads equal to read(), private writes copy-on-write, SIGBUS past EOF", () => {
    const r = result("mmap");
    expect(r.output).not.toContain("FAIL");
    expect(r.exitCode).toBe(0);
    expect(r.lines.filter((l) => l.startsWith("OK ")).length).toBeGreaterThan(300);
  });

  it("does not grow the page cache with reads", () => {
    const m = /CACHED (\d+) (\d+)/.exec(result("pagecache").output);
    expect(m).not.toBeNull();
    const growthKb = Number(m?.[2]) - Number(m?.[1]);
    // Three passes over > 24 MiB of file data; a page-cache-backed read would add ~25000 KiB.
    expect(growthKb).toBeLessThan(2048);
  });

  it("is read-only on main and reports statfs with the DAXFS magic", () => {
    const out = result("readonly").output;
    expect(out).toMatch(/STATFS 64617835 4096 \d+ 255/);
    expect(out).toMatch(/TOUCH .*Read-only file system/);
    expect(out).toMatch(/REMOUNT /);
    expect(out).toMatch(/MOUNTS none \/mnt\/t daxfs ro,.*phys=0x[0-9a-f]+,size=\d+,validate,static/);
    expect(out).toContain("SECOND-MOUNT ok");
    // A branching image: f_files is next_inode_id.
    expect(out).toMatch(/BRANCHING 64617835 \d+/);
    // Main mounted without branch options shows none (docs/kernel.md "Mount options").
    expect(out).toMatch(/MOUNTS2 none \/mnt\/m2 daxfs ro,.*phys=0x[0-9a-f]+,size=\d+ /);
    expect(out).not.toMatch(/MOUNTS2 .*(branch|parent)=/);
  });

  it("refuses bad options and a phys= range in System RAM with EINVAL and one kernel line naming it", () => {
    const lines = result("options").lines;
    for (const l of lines) expect(l).toMatch(/^REFUSED .*Invalid argument/);
    expect(lines.find((l) => l.startsWith("REFUSED bogus=1"))).toMatch(/bogus/);
    expect(lines.find((l) => l.startsWith("REFUSED phys=zz"))).toMatch(/phys/);
    expect(lines.find((l) => l.startsWith("REFUSED phys=0x") && !l.includes("size="))).toMatch(
      /need dmabuf fd or phys\/size/,
    );
    // Guest RAM (16 MiB in) is System RAM of the kernel: never mapped, whatever the image there.
    expect(lines.find((l) => l.startsWith("REFUSED phys=0x1000000,"))).toMatch(
      /\|daxfs: phys=0x1000000,size=4194304: range is System RAM of this kernel\|.*Invalid argument/,
    );
    expect(lines).toHaveLength(4);
  });

  it("replays main's delta log: writes, truncates, creates, symlinks, renames, deletes, setattr", () => {
    const r = result("mainlog");
    expect(r.exitCode, r.output.slice(-2000)).toBe(0);
    const walked = parseWalk(r.lines).map(({ blocks, sha256, ...rest }) => rest);
    expect(walked).toEqual(coreWalk(mainLog));
    const paths = walked.map((e) => e.path);
    expect(paths).toContain("./newdir/moved");
    expect(paths).not.toContain("./sub/inner");
    expect(paths).not.toContain("./link");
    const b = walked.find((e) => e.path === "./b");
    expect(b).toMatchObject({ size: 6, uid: 42, gid: 43, mode: 0o100600 });
    // "bee\n" truncated to 2 then regrown to 6: "be" and four zero bytes.
    expect(r.output).toMatch(/BBYTES\s+b\s+e\s+\\0\s+\\0\s+\\0\s+\\0/);
    // mmap of log-changed files (assembled pages) equals read(), and copy on write still holds.
    expect(r.lines.filter((l) => l.startsWith("MMAP OK ")).length).toBe(4);
    expect(r.output).not.toContain("MMAP FAIL");
  });

  it("replays entries of a merged child log (stale names) as @daxfs/core does", () => {
    const r = result("mergedlog");
    expect(r.exitCode, r.output.slice(-2000)).toBe(0);
    const walked = parseWalk(r.lines).map(({ blocks, sha256, ...rest }) => rest);
    expect(walked).toEqual(coreWalk(mergedLog));
    expect(walked.map((e) => e.path)).toEqual([".", "./a", "./link", "./sub", "./sub/inner", "./sub/l2"]);
    expect(walked.find((e) => e.path === "./a")).toMatchObject({ size: 6, uid: 1 });
  });

  it("keeps names and symlink targets as bytes, base and log, as @daxfs/core reads them", () => {
    const r = result("bytenames");
    expect(r.exitCode, r.output.slice(-2000)).toBe(0);
    const hex = (text: string) => Buffer.from(encodeName(text)).toString("hex");
    const view = DaxfsImage.open(new MemoryImage(byteNames, false)).view();
    const expected = [...view.walk()]
      .filter(({ path }) => path !== "/")
      .map(({ path, ino, stat }) => {
        const type = stat.mode & 0o170000;
        const content =
          type === S_IFLNK
            ? `L${hex(view.readlink(ino))}`
            : type === S_IFDIR
              ? "D"
              : // $(cat) drops trailing newlines, as the guest's shell does.
                `F${Buffer.from(view.read(ino, 0, stat.size))
                  .toString("hex")
                  .replace(/(0a)+$/, "")}`;
        return `N|${hex(`.${path}`)}|${content}`;
      })
      .sort();
    expect(expected).toHaveLength(7);
    expect(r.lines.filter((line) => line.startsWith("N|")).sort()).toEqual(expected);
  });

  it("refuses every corrupt image under validate, with a message, and never oopses", () => {
    const lines = result("corrupt").lines;
    for (const c of corrupt) {
      const refused = lines.find((l) => l.startsWith(`REFUSED ${c.name}|`));
      expect(refused, `${c.name} (${c.why})`).toBeDefined();
      expect(refused?.split("|")[1], c.name).toMatch(/daxfs/);
      expect(refused?.split("|")[2], c.name).toMatch(/Invalid argument/);
      if (c.always) expect(lines, c.name).toContain(`UNMOUNTED ${c.name}`);
    }
    // The whole run would have thrown on an oops, BUG or WARNING in the console.
    expect(run.console).not.toMatch(/Oops|BUG:|WARNING:|general protection/);
  });

  it("survives randomly corrupted metadata with and without validate; what validate accepts reads without errors", () => {
    const lines = result("fuzz").lines;
    for (const f of fuzzed) {
      const about = lines.filter((l) => l.endsWith(` ${f.name}`)).join(", ");
      expect(
        lines.includes(`VALID-OK ${f.name}`) || lines.includes(`VALIDATE-REFUSED ${f.name}`),
        `${f.name}: ${about}`,
      ).toBe(true);
      expect(
        lines.includes(`TRUSTED-DONE ${f.name}`) || lines.includes(`TRUSTED-REFUSED ${f.name}`),
        `${f.name}: ${about}`,
      ).toBe(true);
    }
  });

  it("accepts under validate every fuzzed image that @daxfs/core's validator finds clean", () => {
    const lines = result("fuzz").lines;
    const clean = fuzzed.filter((f) => validate(new MemoryImage(f.bytes, false)).problems.length === 0);
    expect(clean.length).toBeGreaterThan(0);
    for (const f of clean)
      expect(lines, `${f.name} is valid for @daxfs/core`).toContain(`VALID-OK ${f.name}`);
  });

  it.runIf(kernel === "6.12")(
    "mounts a dma-buf through fsconfig and hands it back with DAXFS_IOC_GET_DMABUF",
    () => {
      const out = result("dmabuf").output;
      expect(out).toContain("mounted");
      expect(out).toContain("get-dmabuf ok");
      expect(out).toContain("SAME big");
      // mmap of dma-buf pages (vmalloc_to_pfn) equals read(), as on the NVDIMM.
      expect(Number(/MMAP-OK (\d+)/.exec(out)?.[1])).toBeGreaterThan(300);
      expect(out).not.toMatch(/^FAIL/m);
      expect(out).toContain("UMOUNT ok");
    },
  );

  it("unmounts and unloads cleanly", () => {
    expect(result("umount").output).toContain("UMOUNT ok");
  });
});
