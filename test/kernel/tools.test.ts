// Our Node CLIs against daxfs.ko (issue 9 item 6): daxfs-inspect, mkdaxfs and daxfs-branch run
// inside the guest (test/qemu --host-root: the host's root over virtio-9p, chrooted into by
// host_run) on kernel mounts, phys= (both kernels) and dma-buf (6.12: 6.1's Debian kernel has no
// dma-heaps). One boot per kernel; each `it` checks the steps of one scenario. The CLIs run from
// dist/ (build first). Without QEMU or the kernels the suite is reported as skipped.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildImage, makeDir, makeFile, makeSymlink } from "@daxfs/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GuestRun, installedKernels, runGuest } from "../qemu/bench.js";
import { parseWalk, walkScript } from "./walk.js";

const kernels = installedKernels();
const repo = fileURLToPath(new URL("../..", import.meta.url));
const MiB = 1 << 20;

/** A branching image as the host's mkdaxfs -b would make it. */
function branchingImage(): Uint8Array {
  const root = makeDir();
  const docs = makeDir({ mode: 0o750 });
  docs.children.set("readme", makeFile("kernel mount, read by our tools\n"));
  root.children.set("docs", docs);
  root.children.set("data", makeFile(new Uint8Array(10_000).fill(7)));
  root.children.set("link", makeSymlink("docs/readme"));
  return buildImage(root, { branching: true, deltaSize: 4 * MiB });
}
const image = branchingImage();
/** Where mkdaxfs -p writes (zeros before the run). */
const BLANK = 8 * MiB;

/** Host-side reference: daxfs-inspect ARGS on the image file, the same CLI the guest runs. */
let hostDir: string;
function hostInspect(...args: string[]): string[] {
  const file = join(hostDir, "image.img");
  writeFileSync(file, image);
  const out = execFileSync(process.execPath, [join(repo, "packages/inspect/dist/cli.js"), file, ...args], {
    encoding: "utf8",
  });
  return out.replace(/\n$/, "").split("\n");
}

// Shell run before every scenario: the CLIs, and `step NAME CMD...`, which frames CMD's output
// (stdout and stderr, through a file so a tool never sees the serial tty) and its exit status.
const prelude = `inspect() { host_run node packages/inspect/dist/cli.js "$@"; }
branch() { host_run node packages/branch/dist/cli.js "$@"; }
mkdaxfs() { host_run node packages/mkdaxfs/dist/cli.js "$@"; }
step() {
  name=$1; shift
  "$@" >"$SCRATCH/step.out" 2>&1
  rc=$?
  echo "@@STEP $name"; cat "$SCRATCH/step.out"; echo "@@RC $name $rc"
}
P=$(img_phys img) S=$(img_size img) BP=$(img_phys blank)
`;

/** A source tree for mkdaxfs -d, made in the guest's scratch tmpfs. */
const makeSource = `src=/tmp/src
mkdir -p $src/etc/deep/er $src/empty
printf 'hello\\n' > $src/hello
printf 'config\\n' > $src/etc/conf; chmod 600 $src/etc/conf; chown 1000:100 $src/etc/conf
dd if=/dev/urandom of=$src/etc/deep/er/big bs=4096 count=300 2>/dev/null
printf '' > $src/etc/zero
ln -s ../hello $src/etc/link
chmod 4755 $src/hello
`;

/** Walk of DIR without what differs between a tmpfs and daxfs (directory sizes, block counts). */
const comparable = (lines: string[]) =>
  parseWalk(lines).map(({ blocks, size, ...rest }) =>
    (rest.mode & 0o170000) === 0o040000 ? rest : { ...rest, size },
  );

function scenarios(kernel: string) {
  const heap = kernel === "6.12";
  return [
    {
      // Before anything mounts the image: -p must read exactly what the file holds.
      name: "phys",
      script: `step list-p inspect list -p $P -s $S
step status-p inspect status -p $P -s $S
step info-p inspect info -b main -p $P -s $S
daxmount img /mnt/p
step list-p2 inspect list -p $P -s $S
step list-m inspect list -m /mnt/p
step status-m inspect status -m /mnt/p
step info-m inspect info -b main -m /mnt/p
step cat-m inspect cat /docs/readme -m /mnt/p
step validate-m inspect validate -m /mnt/p
step blist branch list
step blist-m branch list -m /mnt/p
step notdax inspect list -m /tmp
step bnotdax branch list -m /tmp`,
    },
    {
      name: "mkdaxfs-heap",
      script: `${makeSource}
mkdir -p /mnt/h
step heap mkdaxfs -d $src -b -D 4M -H /dev/dma_heap/system -m /mnt/h
grep ' /mnt/h ' /proc/mounts | sed 's/^/MOUNT /'
${
  heap
    ? `echo "@@WALK src"; ${walkScript("$src")}
echo "@@WALK mnt"; ${walkScript("/mnt/h")}
echo "@@WALK end"
step list-m inspect list -m /mnt/h
step validate-m inspect validate -m /mnt/h
step blist-m branch list -m /mnt/h
mkdir -p /mnt/hs
step heap-static mkdaxfs -d $src -V -H /dev/dma_heap/system -m /mnt/hs
grep ' /mnt/hs ' /proc/mounts | sed 's/^/MOUNT /'
step write-static touch /mnt/hs/new`
    : ""
}`,
    },
    {
      name: "mkdaxfs-phys",
      script: `${makeSource}
echo "@@BP $BP"
step small mkdaxfs -d $src -b -D 4M -p $BP -s 64K
step after-small inspect status -p $BP -s 8M
step phys mkdaxfs -d $src -b -D 4M -p $BP -s 8M
mkdir -p /mnt/w
mount -t daxfs -o phys=$BP,size=${BLANK},validate none /mnt/w && echo MOUNTED
echo "@@WALK src"; ${walkScript("$src")}
echo "@@WALK mnt"; ${walkScript("/mnt/w")}
echo "@@WALK end"
step validate-p inspect validate -p $BP -s 8M
step blist-m branch list -m /mnt/w`,
    },
    {
      // Mounts a new branch backed like an existing mount: phys=/size= from the mount table, or
      // (6.12) the dma-buf that GET_DMABUF returns.
      name: "create",
      script: `mkdir -p /mnt/c1 /mnt/c2
step create-phys branch create c1 -m /mnt/c1 -p main --source /mnt/w
step create-dmabuf ${heap ? "branch create c2 -m /mnt/c2 -p main --source /mnt/h" : "true"}
step blist-c1 branch list -m /mnt/c1
step blist-c2 ${heap ? "branch list -m /mnt/c2" : "true"}
step ilist-c1 inspect list -m /mnt/c1
step ilist-c2 ${heap ? "inspect list -m /mnt/c2" : "true"}
step blist branch list
step nosuch branch create c3 -m /mnt/none -p main
grep -E ' /mnt/(c[12]|w) ' /proc/mounts | sed 's/^/MOUNT /'`,
    },
  ];
}

interface Step {
  lines: string[];
  rc: number;
}

/** The `step` frames of a scenario's output. */
function parseSteps(lines: string[]): Map<string, Step> {
  const steps = new Map<string, Step>();
  let current: { name: string; lines: string[] } | null = null;
  for (const line of lines) {
    const begin = /^@@STEP (\S+)$/.exec(line);
    const end = /^@@RC (\S+) (\d+)$/.exec(line);
    if (begin) current = { name: begin[1] as string, lines: [] };
    else if (end && current) {
      steps.set(current.name, { lines: current.lines, rc: Number(end[2]) });
      current = null;
    } else if (current) current.lines.push(line);
  }
  return steps;
}

/** The walks between "@@WALK src", "@@WALK mnt" and "@@WALK end". */
function walks(lines: string[]) {
  const at = (tag: string) => lines.indexOf(`@@WALK ${tag}`);
  return {
    src: comparable(lines.slice(at("src") + 1, at("mnt"))),
    mnt: comparable(lines.slice(at("mnt") + 1, at("end"))),
  };
}

/** Branch support in daxfs.ko: until the module creates branches it refuses branch= with this line. */
const NO_BRANCHES = /only main is supported by this module version/;

describe.skipIf(kernels.length === 0).each(kernels)("our CLIs against daxfs.ko on Linux %s", (kernel) => {
  let run: GuestRun;
  beforeAll(async () => {
    hostDir = mkdtempSync(join(tmpdir(), "daxfs-tools-"));
    run = await runGuest({
      kernel,
      hostRoot: true,
      images: [
        { name: "img", bytes: image },
        { name: "blank", bytes: new Uint8Array(BLANK) },
      ],
      scenarios: scenarios(kernel).map((s) => ({ ...s, script: prelude + s.script })),
      timeoutSec: 420,
    });
    // The wait for DAXFS_GUEST_LOCK (other suites' guests) counts too.
  }, 1_800_000);
  afterAll(() => rmSync(hostDir, { recursive: true, force: true }));

  const scenario = (name: string) => {
    const r = run.scenarios.get(name);
    if (!r) throw new Error(`scenario ${name} did not run; console:\n${run.console.slice(-3000)}`);
    return { ...r, steps: parseSteps(r.lines) };
  };
  const step = (s: ReturnType<typeof scenario>, name: string): Step => {
    const found = s.steps.get(name);
    if (!found) throw new Error(`step ${name} did not run:\n${s.output.slice(-3000)}`);
    return found;
  };
  const ok = (s: ReturnType<typeof scenario>, name: string): string[] => {
    const r = step(s, name);
    expect(r.rc, `${name}:\n${r.lines.join("\n")}`).toBe(0);
    return r.lines;
  };

  it("daxfs-inspect -p reads the image in physical memory as the host reads the file", () => {
    const s = scenario("phys");
    expect(ok(s, "list-p")).toEqual(hostInspect("list"));
    expect(ok(s, "status-p")).toEqual(hostInspect("status"));
    expect(ok(s, "info-p")).toEqual(hostInspect("info", "-b", "main"));
  });

  it("daxfs-inspect -m on a phys= kernel mount reads the same memory as -p", () => {
    const s = scenario("phys");
    expect(ok(s, "list-m")).toEqual(ok(s, "list-p2"));
    expect(ok(s, "list-m")).toContainEqual(expect.stringMatching(/^1 +main +active/));
    expect(ok(s, "status-m")[0]).toBe("DAXFS Memory Status");
    expect(ok(s, "info-m")).toContain("Branch: main");
    expect(ok(s, "cat-m")).toEqual(["kernel mount, read by our tools"]);
    expect(ok(s, "validate-m").at(-1)).toBe("No errors found");
  });

  it("daxfs-branch list shows the kernel mount from /proc/mounts", () => {
    const s = scenario("phys");
    const phys = `0x${(0x100000000).toString(16)}`;
    const rows = ok(s, "blist");
    expect(rows[0]).toMatch(/^MOUNTPOINT +BRANCH PATH +MODE +BACKING$/);
    expect(rows.slice(2)).toEqual([
      expect.stringMatching(new RegExp(`^/mnt/p +/main +ro +phys=${phys},size=${image.length}$`)),
    ]);
    expect(ok(s, "blist-m")).toEqual([
      "Mountpoint:  /mnt/p",
      "Branch path: /main",
      "Mode:        read-only",
      `Backing:     phys=${phys}, size=${image.length}`,
    ]);
  });

  it("both tools refuse a path that is not a daxfs mount, in one line", () => {
    const s = scenario("phys");
    expect(step(s, "notdax")).toEqual({
      rc: 2,
      lines: ["daxfs-inspect: /tmp: not a daxfs mount (type tmpfs)"],
    });
    expect(step(s, "bnotdax")).toEqual({ rc: 1, lines: ["Error: no daxfs mount at '/tmp'"] });
  });

  it.runIf(kernel === "6.12")(
    "mkdaxfs -H builds into a dma-heap buffer and mounts it (fsopen/fsconfig dmabuf/fsmount)",
    () => {
      const s = scenario("mkdaxfs-heap");
      const heap = ok(s, "heap");
      expect(heap.at(-2)).toBe("Done. Mounted daxfs on /mnt/h");
      expect(s.lines).toContainEqual(expect.stringMatching(/^MOUNT none \/mnt\/h daxfs .*source=dmabuf,/));
      const { src, mnt } = walks(s.lines);
      expect(src.length).toBe(10);
      expect(mnt).toEqual(src);
      expect(ok(s, "list-m")).toContainEqual(expect.stringMatching(/^1 +main +active/));
      expect(ok(s, "validate-m").at(-1)).toBe("No errors found");
      expect(ok(s, "blist-m")).toContain("Backing:     dmabuf");
      // A static image (no -b) with -V: mounted read-only (MOUNT_ATTR_RDONLY) with validate.
      expect(ok(s, "heap-static").at(-2)).toBe("Done. Mounted daxfs on /mnt/hs");
      expect(s.lines).toContainEqual(
        expect.stringMatching(/^MOUNT none \/mnt\/hs daxfs ro,.*source=dmabuf,size=\d+,validate,static /),
      );
      expect(step(s, "write-static")).toMatchObject({
        rc: 1,
        lines: [expect.stringMatching(/Read-only file system/)],
      });
    },
  );

  it.runIf(kernel !== "6.12")("mkdaxfs -H without dma-heaps fails in one line and mounts nothing", () => {
    const s = scenario("mkdaxfs-heap");
    const r = step(s, "heap");
    expect(r.rc).toBe(1);
    expect(r.lines.filter((l) => l.startsWith("mkdaxfs: "))).toEqual([
      expect.stringMatching(/^mkdaxfs: -H\/--heap: \/dev\/dma_heap\/system: no such DMA heap/),
    ]);
    expect(s.lines.filter((l) => l.startsWith("MOUNT "))).toEqual([]);
  });

  it("mkdaxfs -p writes through /dev/mem into the NVDIMM; phys= mounts it and reads the tree back", () => {
    const s = scenario("mkdaxfs-phys");
    const small = step(s, "small");
    expect(small.rc).toBe(1);
    expect(small.lines.filter((l) => l.startsWith("mkdaxfs: "))).toHaveLength(1);
    // Nothing written: the memory still holds zeros.
    expect(step(s, "after-small")).toMatchObject({
      rc: 1,
      lines: [expect.stringMatching(/bad magic 0x0\b/)],
    });
    const address = s.lines.find((l) => l.startsWith("@@BP "))?.slice("@@BP ".length);
    expect(ok(s, "phys")).toContain(`Wrote physical memory at ${address} (${BLANK} bytes)`);
    expect(s.lines).toContain("MOUNTED");
    const { src, mnt } = walks(s.lines);
    expect(src.length).toBe(10);
    expect(mnt).toEqual(src);
    expect(ok(s, "validate-p").at(-1)).toBe("No errors found");
    expect(ok(s, "blist-m")).toContain("Branch path: /main");
  });

  it("daxfs-branch create mounts a new branch backed like the source mount (phys=, GET_DMABUF)", (ctx) => {
    const s = scenario("create");
    const phys = step(s, "create-phys");
    if (phys.rc !== 0 && phys.lines.some((l) => NO_BRANCHES.test(l))) {
      // The request reached the kernel with the source's backing (the refusal names branch=, the
      // step after phys=/size= or dmabuf): this module cannot create branches yet.
      expect(phys.lines).toContain("  daxfs: setting branch=c1");
      if (kernel === "6.12") expect(step(s, "create-dmabuf").lines).toContain("  daxfs: setting branch=c2");
      ctx.skip("daxfs.ko refuses branch= (kernel branches pending)");
    }
    expect(phys.rc, phys.lines.join("\n")).toBe(0);
    expect(phys.lines).toEqual([
      "Creating branch 'c1' from parent 'main'...",
      "Branch 'c1' mounted at '/mnt/c1'",
    ]);
    // The kernel may show the branch's path (SPEC 3.12) or only its name; the tool shows the path.
    const w = s.lines.find((l) => l.startsWith("MOUNT none /mnt/w "));
    const c1 = s.lines.find((l) => l.startsWith("MOUNT none /mnt/c1 "));
    expect(c1).toMatch(/^MOUNT none \/mnt\/c1 daxfs rw,.*branch=c1,parent=main /);
    // Backed like the source: the same phys= and size=.
    expect(c1?.match(/phys=\S+?,size=\d+/)?.[0]).toBe(w?.match(/phys=\S+?,size=\d+/)?.[0]);
    expect(ok(s, "blist-c1").slice(1, 3)).toEqual(["Branch path: /main/c1", "Mode:        read-write"]);
    // daxfs-inspect -m on the branch mount reads the same image: the new record is there, ACTIVE, child of main.
    expect(ok(s, "ilist-c1")).toContainEqual(expect.stringMatching(/^\d+ +c1 +active +main /));
    if (kernel === "6.12") {
      expect(ok(s, "create-dmabuf")).toContain("Branch 'c2' mounted at '/mnt/c2'");
      expect(s.lines).toContainEqual(
        expect.stringMatching(/^MOUNT none \/mnt\/c2 daxfs rw,.*source=dmabuf.*branch=c2,parent=main /),
      );
      expect(ok(s, "ilist-c2")).toContainEqual(expect.stringMatching(/^\d+ +c2 +active +main /));
      expect(ok(s, "blist-c2").slice(1)).toEqual([
        "Branch path: /main/c2",
        "Mode:        read-write",
        "Backing:     dmabuf",
      ]);
    }
  });

  it("daxfs-branch create refuses a mount point that does not exist", () => {
    const s = scenario("create");
    expect(step(s, "nosuch")).toEqual({
      rc: 1,
      lines: ["daxfs-branch: /mnt/none: mountpoint does not exist"],
    });
  });
});
