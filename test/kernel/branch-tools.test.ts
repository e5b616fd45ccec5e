// The branch flow of the public test script (SPEC 6.1 rows 1-13) driven through our CLIs against
// daxfs.ko in the guest: mkdaxfs makes and mounts main (6.12: -H, a dma-heap buffer mounted through
// fsopen/fsconfig/fsmount; 6.1: -p into the NVDIMM, mounted with phys=), daxfs-branch creates,
// lists, switches to, commits and aborts branches (dma-buf from GET_DMABUF, or phys=/size= from the
// mount table), and daxfs-inspect reads main back through the mount. Each step's exit status and
// output are checked (expect.soft: every difference is listed). Until daxfs.ko creates branches
// (it refuses branch= with "only main is supported") the suite reports itself skipped.
import { beforeAll, describe, expect, it } from "vitest";
import { type GuestRun, installedKernels, runGuest } from "../qemu/bench.js";

const kernels = installedKernels();
const MiB = 1 << 20;
/** 6.1: where mkdaxfs -p writes main (zeros before the run). */
const PHYS_AREA = 24 * MiB;

interface Step {
  name: string;
  /** Shell command, run by busybox sh outside the chroot; the CLIs are the functions of the prelude. */
  cmd: string;
  /** Exit status: a number, or "fails" for any non-zero status. */
  rc?: number | "fails";
  /** Exact output lines, or a pattern some line must match. */
  out?: string[] | RegExp;
}

const STALE = /Stale file handle/;

/** The flow; `main` is mounted at /mnt/main by the first step. */
function flow(kernel: string): Step[] {
  const heap = kernel === "6.12";
  const backing = heap ? "dmabuf" : `phys=0x[0-9a-f]+,size=${PHYS_AREA}`;
  const w = (path: string, text: string) => `sh -c 'echo "${text}" > ${path}'`;
  return [
    // Row 1: main from mkdaxfs, read-only.
    {
      name: "mkdaxfs",
      cmd: heap
        ? "mkdaxfs -d $src -H /dev/dma_heap/system -s 128M -b -m /mnt/main"
        : `mkdaxfs -d $src -b -D 16M -p $BP -s ${PHYS_AREA} && mount -t daxfs -o phys=$BP,size=${PHYS_AREA} none /mnt/main`,
      rc: 0,
    },
    { name: "r1-read", cmd: "cat /mnt/main/hello.txt", rc: 0, out: ["Hello from base image"] },
    { name: "r1-create", cmd: "touch /mnt/main/new.txt", rc: "fails" },
    { name: "r1-overwrite", cmd: w("/mnt/main/hello.txt", "x"), rc: "fails" },
    // Row 2: a writable branch.
    {
      name: "r2-create",
      cmd: "branch create branch1 -m /mnt/b1 -p main",
      rc: 0,
      out: ["Creating branch 'branch1' from parent 'main'...", "Branch 'branch1' mounted at '/mnt/b1'"],
    },
    {
      name: "r2-list",
      cmd: "branch list -m /mnt/b1",
      rc: 0,
      out: [
        "Mountpoint:  /mnt/b1",
        "Branch path: /main/branch1",
        "Mode:        read-write",
        heap ? "Backing:     dmabuf" : `Backing:     phys=$BP, size=${PHYS_AREA}`,
      ],
    },
    { name: "r2-base", cmd: "cat /mnt/b1/hello.txt", rc: 0, out: ["Hello from base image"] },
    {
      name: "r2-write",
      cmd: `${w("/mnt/b1/branch1_file.txt", "branch1 data")} && ${w("/mnt/b1/modify_me.txt", "Modified in branch1")} && cat /mnt/b1/branch1_file.txt /mnt/b1/modify_me.txt`,
      rc: 0,
      out: ["branch1 data", "Modified in branch1"],
    },
    // Row 3: isolation between siblings.
    { name: "r3-create", cmd: "branch create branch2 -m /mnt/b2 -p main", rc: 0 },
    { name: "r3-original", cmd: "cat /mnt/b2/modify_me.txt", rc: 0, out: ["Original content"] },
    { name: "r3-no-b1-file", cmd: "ls /mnt/b2/branch1_file.txt", rc: "fails" },
    {
      name: "r3-b2-write",
      cmd: `${w("/mnt/b2/branch2_file.txt", "branch2 data")} && ! ls /mnt/b1/branch2_file.txt 2>/dev/null && echo isolated`,
      rc: 0,
      out: ["isolated"],
    },
    // Row 4: a nested branch sees its parent's changes; its own stay in it.
    { name: "r4-create", cmd: "branch create nested -m /mnt/n -p branch1", rc: 0 },
    {
      name: "r4-sees-parent",
      cmd: "cat /mnt/n/modify_me.txt /mnt/n/branch1_file.txt",
      rc: 0,
      out: ["Modified in branch1", "branch1 data"],
    },
    {
      name: "r4-write",
      cmd: `${w("/mnt/n/nested_file.txt", "nested data")} && ${w("/mnt/n/modify_me.txt", "Modified in nested")} && ! ls /mnt/b1/nested_file.txt 2>/dev/null && cat /mnt/b1/modify_me.txt`,
      rc: 0,
      out: ["Modified in branch1"],
    },
    {
      name: "r4-list",
      cmd: "branch list | grep /mnt/n",
      rc: 0,
      out: new RegExp(`^/mnt/n +/main/branch1/nested +rw +${backing}$`),
    },
    // Row 5: unmount discards the nested branch; a new one does not see it.
    { name: "r5-umount", cmd: "umount /mnt/n", rc: 0 },
    { name: "r5-create", cmd: "branch create nested2 -m /mnt/n2 -p branch1", rc: 0 },
    {
      name: "r5-discarded",
      cmd: "ls /mnt/n2/nested_file.txt 2>/dev/null; cat /mnt/n2/modify_me.txt",
      rc: 0,
      out: ["Modified in branch1"],
    },
    { name: "r5-umount2", cmd: "umount /mnt/n2", rc: 0 },
    // Rows 6-11 in branch1.
    {
      name: "r6-mkdir",
      cmd: `mkdir /mnt/b1/newdir && ${w("/mnt/b1/newdir/file.txt", "in newdir")} && cat /mnt/b1/newdir/file.txt`,
      rc: 0,
      out: ["in newdir"],
    },
    {
      name: "r7-unlink",
      cmd: "rm /mnt/b1/subdir/nested.txt && ! ls /mnt/b1/subdir/nested.txt 2>/dev/null && cat /mnt/main/subdir/nested.txt",
      rc: 0,
      out: ["File in subdir"],
    },
    {
      name: "r8-rmdir",
      cmd: "rmdir /mnt/b1/subdir && ! stat /mnt/b1/subdir >/dev/null 2>&1 && ls /mnt/main/subdir",
      rc: 0,
      out: ["nested.txt"],
    },
    {
      name: "r9-symlink",
      cmd: "ln -s hello.txt /mnt/b1/link_to_hello && test -L /mnt/b1/link_to_hello && cat /mnt/b1/link_to_hello",
      rc: 0,
      out: ["Hello from base image"],
    },
    {
      name: "r10-rename",
      cmd: "mv /mnt/b1/branch1_file.txt /mnt/b1/renamed.txt && ! stat /mnt/b1/branch1_file.txt >/dev/null 2>&1 && cat /mnt/b1/renamed.txt",
      rc: 0,
      out: ["branch1 data"],
    },
    {
      name: "r11-truncate",
      cmd: "truncate -s 5 /mnt/b1/hello.txt && stat -c %s /mnt/b1/hello.txt && cat /mnt/main/hello.txt",
      rc: 0,
      out: ["5", "Hello from base image"],
    },
    // switch: the existing branch1 mounted a second time, by name.
    {
      name: "switch",
      cmd: "branch switch branch1 -m /mnt/b1again && cat /mnt/b1again/renamed.txt && stat -c %s /mnt/b1again/hello.txt",
      rc: 0,
      out: [
        "Switching to branch 'branch1'...",
        "Branch 'branch1' mounted at '/mnt/b1again'",
        "branch1 data",
        "5",
      ],
    },
    { name: "switch-umount", cmd: "umount /mnt/b1again", rc: 0 },
    { name: "switch-none", cmd: "branch switch nosuch -m /mnt/none2", rc: 1 },
    // abort: discards the branch, the mount goes back to main.
    {
      name: "abort",
      cmd: `branch create ab -m /mnt/ab -p main && ${w("/mnt/ab/ab.txt", "to be aborted")} && branch abort -m /mnt/ab`,
      rc: 0,
      out: [
        "Creating branch 'ab' from parent 'main'...",
        "Branch 'ab' mounted at '/mnt/ab'",
        "Aborting entire branch chain...",
        "Branch chain aborted (back to main)",
      ],
    },
    { name: "abort-gone", cmd: "ls /mnt/ab/ab.txt /mnt/main/ab.txt", rc: "fails" },
    {
      name: "abort-main",
      cmd: "branch abort -m /mnt/main",
      rc: 1,
      out: ["Error: cannot abort 'main' branch"],
    },
    // Row 12: commit (branches unmounted first, as the public script does).
    { name: "r12-umount", cmd: "umount /mnt/b1 /mnt/b2 && umount /mnt/ab", rc: 0 },
    {
      name: "r12-setup",
      cmd: `branch create commit_test -m /mnt/ct -p main && ${w("/mnt/ct/committed.txt", "committed data")} && ! ls /mnt/main/committed.txt 2>/dev/null && branch create sibling -m /mnt/sib -p main && ${w("/mnt/sib/sibling.txt", "sibling data")}`,
      rc: 0,
    },
    {
      name: "r12-commit",
      cmd: "branch commit -m /mnt/ct",
      rc: 0,
      out: ["Committing branch chain to main...", "Branch chain merged to main (all siblings invalidated)"],
    },
    // Our additions: main has it, read by the kernel and by @daxfs/core through the mount.
    { name: "r12-main", cmd: "cat /mnt/main/committed.txt", rc: 0, out: ["committed data"] },
    { name: "r12-inspect", cmd: "inspect cat /committed.txt -m /mnt/main", rc: 0, out: ["committed data"] },
    // The committed mount is still found (its root may answer ESTALE: the kernel decides what it serves).
    { name: "r12-after", cmd: "branch list -m /mnt/ct", rc: 0, out: /^Mountpoint: +\/mnt\/ct$/ },
    // Row 13: the invalidated sibling.
    {
      name: "r13-stale",
      cmd: "cat /mnt/sib/sibling.txt; touch /mnt/sib/new; ls /mnt/sib",
      rc: "fails",
      out: STALE,
    },
    { name: "r13-commit", cmd: "branch commit -m /mnt/sib", rc: 1, out: STALE },
    // A chain two deep committed from its tip: main gets both levels.
    {
      name: "nest-create",
      cmd: `branch create x1 -m /mnt/x1 -p main && ${w("/mnt/x1/one.txt", "one")} && branch create x2 -m /mnt/x2 -p x1 && ${w("/mnt/x2/two.txt", "two")}`,
      rc: 0,
    },
    { name: "nest-list", cmd: "branch list -m /mnt/x2", rc: 0, out: /^Branch path: \/main\/x1\/x2$/ },
    { name: "nest-commit", cmd: "branch commit -m /mnt/x2", rc: 0 },
    { name: "nest-main", cmd: "cat /mnt/main/one.txt /mnt/main/two.txt", rc: 0, out: ["one", "two"] },
    {
      name: "list-records",
      cmd: "inspect list -m /mnt/main",
      rc: 0,
      out: /^\d+ +commit_test|^\d+ +\S* +committed/,
    },
    { name: "validate", cmd: "inspect validate -m /mnt/main", rc: 0, out: /^No errors found$/ },
    // Not checked: the mount table at the end, printed with the steps of a failure.
    { name: "mounts", cmd: "grep daxfs /proc/mounts | grep -v /hostroot" },
  ];
}

// The CLIs as commands on PATH (step runs each command line in a shell of its own), the source
// tree of the public script, and `step NAME CMDLINE`, which frames the output and exit status.
const prelude = `mkdir -p /tmp/bin
for tool in inspect:inspect branch:branch mkdaxfs:mkdaxfs; do
  printf '#!/bin/sh\n. /bin/daxlib.sh\nhost_run node packages/%s/dist/cli.js "$@"\n' "\${tool#*:}" > "/tmp/bin/\${tool%%:*}"
  chmod +x "/tmp/bin/\${tool%%:*}"
done
export PATH=/tmp/bin:$PATH
step() {
  name=$1; shift
  sh -c "$1" >"$SCRATCH/step.out" 2>&1
  rc=$?
  echo "@@STEP $name"; cat "$SCRATCH/step.out"; echo "@@RC $name $rc"
}
export BP=$(img_phys area)
echo "@@BP $BP"
export src=/tmp/src
mkdir -p $src/subdir /mnt/main /mnt/b1 /mnt/b2 /mnt/n /mnt/n2 /mnt/b1again /mnt/ab /mnt/ct /mnt/sib /mnt/x1 /mnt/x2
echo "Hello from base image" > $src/hello.txt
echo "Original content" > $src/modify_me.txt
echo "File in subdir" > $src/subdir/nested.txt
`;

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function parseSteps(lines: string[]): Map<string, { rc: number; lines: string[] }> {
  const steps = new Map<string, { rc: number; lines: string[] }>();
  let current: { name: string; lines: string[] } | null = null;
  for (const line of lines) {
    const begin = /^@@STEP (\S+)$/.exec(line);
    const end = /^@@RC (\S+) (\d+)$/.exec(line);
    if (begin) current = { name: begin[1] as string, lines: [] };
    else if (end && current) {
      steps.set(current.name, { rc: Number(end[2]), lines: current.lines });
      current = null;
    } else if (current) current.lines.push(line);
  }
  return steps;
}

describe.skipIf(kernels.length === 0).each(kernels)(
  "daxfs-branch flow (SPEC 6.1 rows 1-13) on daxfs.ko, Linux %s",
  (kernel) => {
    const steps = flow(kernel);
    let run: GuestRun;
    beforeAll(async () => {
      run = await runGuest({
        kernel,
        hostRoot: true,
        images: [{ name: "area", bytes: new Uint8Array(PHYS_AREA) }],
        scenarios: [
          {
            name: "flow",
            script: prelude + steps.map((s) => `step ${s.name} ${shellQuote(s.cmd)}`).join("\n"),
          },
        ],
        timeoutSec: 540,
      });
      // The wait for DAXFS_GUEST_LOCK (other suites' guests) counts too.
    }, 1_800_000);

    it("runs every step with the public script's outcome", (ctx) => {
      const result = run.scenarios.get("flow");
      if (!result) throw new Error(`the flow did not run; console:\n${run.console.slice(-3000)}`);
      const done = parseSteps(result.lines);
      const bp = result.lines.find((l) => l.startsWith("@@BP "))?.slice(5) ?? "?";
      const first = done.get("r2-create");
      if (first && first.rc !== 0 && first.lines.some((l) => /only main is supported/.test(l))) {
        expect(done.get("mkdaxfs")?.rc).toBe(0);
        ctx.skip("daxfs.ko refuses branch= (kernel branches pending)");
      }
      for (const step of steps) {
        const got = done.get(step.name);
        const where = `${step.name} (${step.cmd}):\n${got?.lines.join("\n") ?? "did not run"}`;
        expect.soft(got, where).toBeDefined();
        if (!got) continue;
        if (step.rc === "fails") expect.soft(got.rc, where).not.toBe(0);
        else if (step.rc !== undefined) expect.soft(got.rc, where).toBe(step.rc);
        if (Array.isArray(step.out))
          expect.soft(got.lines, where).toEqual(step.out.map((l) => l.replace("$BP", bp)));
        else if (step.out)
          expect
            .soft(
              got.lines.some((l) => (step.out as RegExp).test(l)),
              where,
            )
            .toBe(true);
      }
    });
  },
);
