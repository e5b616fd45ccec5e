// Hard links and times in daxfs.ko (docs/semantics.md "Extensions", "Times"), both directions:
// a branch written on the host through @daxfs/core's BranchFiles (the POSIX layer daxfs-fuse
// serves) with LINK and UTIMES entries over a base with BASE_MTIME times replays in the kernel
// to the same names, link counts and times; and the kernel's ln, rm, mv, touch -d and tar x in a branch,
// committed to main, replay in @daxfs/core to what the kernel showed, validate in both
// validators, and set the superblock feature bits. One QEMU boot per kernel; without QEMU and the
// kernels the suite is reported as skipped, not passed.
import {
  BranchFiles,
  BranchWriter,
  branchContext,
  buildImage,
  createBranch,
  DaxfsImage,
  MemoryImage,
  makeDir,
  makeFile,
  validate,
} from "@daxfs/core";
import { SuperFeature } from "@daxfs/format";
import { beforeAll, describe, expect, it } from "vitest";
import { expectSameWalk, guestWalk, modelWalk } from "../cross/walk.js";
import { type GuestRun, installedKernels, runGuest } from "../qemu/bench.js";
import { walkScript } from "./walk.js";

const kernels = installedKernels();
const MiB = 1 << 20;
const SEC = 1_000_000_000n;
/** Base mtimes the builder stores (ns; the fraction shows sub-second times survive). */
const BASE_TIME = 1_600_000_000n * SEC + 123_456_789n;
const TOUCHED = 1_580_702_706n * SEC + 500_000_000n;

function tree() {
  const root = makeDir();
  root.mtime = BASE_TIME;
  const status = makeFile("ii hello\n");
  status.mtime = BASE_TIME + SEC;
  const etc = makeDir();
  etc.mtime = BASE_TIME + 2n * SEC;
  etc.children.set("status", status);
  root.children.set("etc", etc);
  const hello = makeFile("Hello from base image");
  hello.mtime = BASE_TIME + 3n * SEC;
  root.children.set("hello.txt", hello);
  return root;
}

const image = () => buildImage(tree(), { branching: true, deltaSize: 8 * MiB });

/** Branch hostb written on the host by BranchFiles: dpkg's link-then-replace, a base link, utimens. */
function hostImage(): Uint8Array {
  const bytes = image();
  const source = new MemoryImage(bytes, true);
  const ctx = branchContext(source);
  const record = createBranch(ctx, "hostb", "main");
  const files = new BranchFiles(DaxfsImage.open(source).view("hostb"), BranchWriter.forRecord(ctx, record));
  const owner = { uid: 0, gid: 0 };
  files.link("/etc/status", "/etc/status-old");
  const fresh = files.create("/etc/status.new", 0o644, owner);
  files.write(fresh, 0, new TextEncoder().encode("ii hello\nii world\n"));
  files.rename("/etc/status.new", "/etc/status");
  files.link("/etc/status", "/etc/second");
  files.link("/hello.txt", "/hello-link");
  files.symlink("hello.txt", "/sym", owner);
  files.link("/sym", "/sym2");
  files.utimens("/etc/second", TOUCHED, TOUCHED + 1n);
  files.utimens("/hello-link", undefined, TOUCHED);
  return bytes;
}

/** Times of every path, in seconds, as `T|path|atime|mtime|ctime` (busybox stat). */
const timesScript = (mnt: string) => `cd ${mnt}
find . -exec stat -c 'T|%n|%X|%Y|%Z' {} +
cd /
`;

function guestTimes(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const [kind, path, ...times] = line.split("|");
    if (kind === "T") out.set(path as string, times.join(" "));
  }
  return out;
}

function modelTimes(bytes: Uint8Array, branch: string): Map<string, string> {
  const view = DaxfsImage.open(new MemoryImage(bytes, false)).view(branch);
  const out = new Map<string, string>();
  for (const { path, stat } of view.walk())
    out.set(
      path === "/" ? "." : `.${path}`,
      [stat.atime, stat.mtime, stat.ctime].map((t) => t / SEC).join(" "),
    );
  return out;
}

const PRELUDE = `
is() { if [ "$2" = "$3" ]; then echo "OK $1"; else echo "BAD $1: got [$2] want [$3]"; fi; }
ok() { n=$1; shift; if "$@" >/tmp/out 2>&1; then echo "OK $n"; else echo "BAD $n: $(head -c 300 /tmp/out | tr '\\n' ' ')"; fi; }
no() { n=$1; shift; if "$@" >/tmp/out 2>&1; then echo "BAD $n: succeeded"; else echo "OK $n: $(head -c 200 /tmp/out | tr '\\n' ' ')"; fi; }
mnt() { mkdir -p $2; mount -t daxfs -o "phys=$(img_phys $1),size=$(img_size $1)\${3:+,$3}" none $2; }
`;

/** The kernel replays the host's branch. */
const HOST = `${PRELUDE}
ok main mnt host /m
is main.base "$(stat -c %Y /m/hello.txt)" ${(BASE_TIME + 3n * SEC) / SEC}
ok attach mnt host /h branch=hostb
is links "$(stat -c %h /h/etc/status-old) $(stat -c %h /h/etc/second) $(stat -c %h /h/hello.txt)" "1 2 2"
is sameino "$(stat -c %i /h/hello.txt)" "$(stat -c %i /h/hello-link)"
${walkScript("/h")}
${timesScript("/h")}
umount /h
umount /m
echo DONE
`;

/** The kernel links, unlinks, renames and touches in a branch, then commits it to main. */
const KERNEL = `${PRELUDE}
ok mount mnt kx /k branch=kb,parent=main
echo data > /k/f
ok ln ln /k/f /k/g
is nlink2 "$(stat -c %h /k/f) $(stat -c %h /k/g)" "2 2"
is sameino "$(stat -c %i /k/f)" "$(stat -c %i /k/g)"
echo more >> /k/g
is through "$(cat /k/f | tr '\\n' ' ')" "data more "
ok rm rm /k/f
is nlink1 "$(stat -c %h /k/g)" 1
ok lnbase ln /k/etc/status /k/status-link
is nlinkbase "$(stat -c %h /k/etc/status)" 2
ok mv mv /k/g /k/etc/status
is replaced "$(stat -c %h /k/status-link)" 1
is oldcontent "$(cat /k/status-link)" "ii hello"
no lndir ln /k/etc /k/etc2
grep -q 'not permitted' /tmp/out && echo "OK lndir.eperm"
no lnexists ln /k/hello.txt /k/status-link
ok touchd touch -d '2020-02-03 04:05:06' /k/etc/status
is touched "$(stat -c %Y /k/etc/status)" "$(date -d '2020-02-03 04:05:06' +%s)"
now=$(date +%s)
ok touchnow touch /k/hello.txt
is touchnow.time "$(( $(stat -c %Y /k/hello.txt) >= now - 1 ))" 1
echo new > /k/newfile
is newtime "$(( $(stat -c %Y /k/newfile) >= now - 1 ))" 1
mkdir -p /tmp/tarsrc/pkg && echo hi > /tmp/tarsrc/pkg/f && touch -d '2019-05-06 07:08:09' /tmp/tarsrc/pkg/f
(cd /tmp/tarsrc && tar -cf /tmp/pkg.tar pkg)
ok tarx tar -xf /tmp/pkg.tar -C /k
is tar.mtime "$(stat -c %Y /k/pkg/f)" "$(stat -c %Y /tmp/tarsrc/pkg/f)"
${timesScript("/k")}
ok commit mount -o remount,commit /k
umount /k
ok validate mnt kx /v validate
${walkScript("/v")}
${timesScript("/v")}
umount /v
echo DONE
`;

describe.skipIf(kernels.length === 0)("daxfs.ko hard links and times in a QEMU guest", () => {
  for (const kernel of kernels) {
    describe(`Linux ${kernel}`, () => {
      let run: GuestRun;
      const host = hostImage();
      const hostBefore = host.slice();

      beforeAll(async () => {
        run = await runGuest({
          kernel,
          images: [
            { name: "host", bytes: host },
            { name: "kx", bytes: image() },
          ],
          scenarios: [
            { name: "host", script: HOST },
            { name: "kernel", script: KERNEL },
          ],
          timeoutSec: 600,
          returnImages: true,
        });
      }, 1_500_000);

      const lines = (name: string) => run.scenarios.get(name)?.lines ?? [];
      const finished = (name: string) => {
        expect(lines(name), run.scenarios.get(name)?.output).toContain("DONE");
        expect(lines(name).filter((l) => l.startsWith("BAD "))).toEqual([]);
      };

      it("a branch with LINK and UTIMES entries written by @daxfs/core replays in the kernel: names, nlink, times", () => {
        finished("host");
        expectSameWalk(
          "kernel hostb",
          guestWalk(lines("host")),
          "@daxfs/core hostb",
          modelWalk(hostBefore, "hostb"),
        );
        expect(guestTimes(lines("host"))).toEqual(modelTimes(hostBefore, "hostb"));
      });

      it("the kernel's ln, rm, mv and touch -d, committed, replay in @daxfs/core as the kernel showed them", () => {
        finished("kernel");
        const kx = run.images.get("kx") as Uint8Array;
        expect(validate(new MemoryImage(kx, false)).problems).toEqual([]);
        const flags = DaxfsImage.open(new MemoryImage(kx, false)).readSuper().flags;
        expect(flags).toBe(SuperFeature.LINK | SuperFeature.UTIMES | SuperFeature.BASE_MTIME);
        expectSameWalk("kernel main", guestWalk(lines("kernel")), "@daxfs/core main", modelWalk(kx, "main"));
        // The last times block is main after the commit (the same paths the branch showed).
        const all = lines("kernel");
        const afterCommit = all.slice(all.findIndex((l) => l.startsWith("OK validate")));
        expect(guestTimes(afterCommit)).toEqual(modelTimes(kx, "main"));
        expect(
          guestTimes(
            all.slice(
              0,
              all.findIndex((l) => l.startsWith("OK commit")),
            ),
          ),
        ).toEqual(modelTimes(kx, "main"));
      });
    });
  }
});
