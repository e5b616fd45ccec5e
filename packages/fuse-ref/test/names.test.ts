// Names that are not UTF-8 on a daxfs-fuse mount (docs/fuse.md "Names"): the binding cannot pass
// their bytes, so they are hidden and refused with EILSEQ, never served as another name; the
// image keeps them untouched.
import * as fs from "node:fs";
import { DaxfsImage, decodeName, encodeName } from "@daxfs/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dir, errno, FuseHarness, file, type RunningMount, symlink } from "../src/testing/index.js";

const bytes = (...values: number[]) => decodeName(Uint8Array.from(values));
/** A host path with raw bytes: MNT + "/" + the name's exact bytes. */
const raw = (mnt: string, name: string) => Buffer.concat([Buffer.from(`${mnt}/`), encodeName(name)]);

describe("daxfs-fuse and names that are not UTF-8", () => {
  const harness = new FuseHarness();
  let image: string;
  let mount: RunningMount;
  let mnt: string;
  beforeAll(async () => {
    image = harness.image(
      dir({
        [bytes(0x66, 0xfe)]: file("first"),
        [bytes(0x66, 0xff)]: file("second"),
        "f\ufffd": file("a real U+FFFD"),
        café: file("utf-8"),
        "bad-link": symlink(bytes(0x74, 0xe9)),
      }),
    );
    mount = await harness.mount(image, ["--branch", "dev", "--parent", "main"]);
    mnt = mount.mountpoint;
  });
  afterAll(() => harness.cleanup());

  it("lists only names the binding passes exactly", () => {
    expect(
      fs
        .readdirSync(mnt, { encoding: "buffer" })
        .map((name) => name.toString("latin1"))
        .sort(),
    ).toEqual(["bad-link", "caf\xc3\xa9"]);
    expect(fs.readFileSync(`${mnt}/café`, "utf8")).toBe("utf-8");
  });

  it("answers EILSEQ for such names and targets instead of another file's bytes", () => {
    expect(errno(() => fs.readFileSync(raw(mnt, bytes(0x66, 0xfe))))).toBe("EILSEQ");
    expect(errno(() => fs.readFileSync(raw(mnt, bytes(0x66, 0xff))))).toBe("EILSEQ");
    expect(errno(() => fs.readFileSync(`${mnt}/f\ufffd`))).toBe("EILSEQ");
    expect(errno(() => fs.readlinkSync(`${mnt}/bad-link`))).toBe("EILSEQ");
    expect(errno(() => fs.writeFileSync(raw(mnt, bytes(0x67, 0xfe)), "x"))).toBe("EILSEQ");
    expect(errno(() => fs.mkdirSync(raw(mnt, bytes(0x64, 0xe9))))).toBe("EILSEQ");
    expect(errno(() => fs.symlinkSync(Buffer.from([0x74, 0xe9]), `${mnt}/new-link`))).toBe("EILSEQ");
    expect(errno(() => fs.renameSync(`${mnt}/café`, raw(mnt, bytes(0x63, 0xe9))))).toBe("EILSEQ");
  });

  it("leaves them in the image as they were", async () => {
    expect(await mount.stop()).toBe(0);
    const view = DaxfsImage.openFile(image).view("main");
    const names = view
      .readdir(view.rootIno)
      .map((entry) => Buffer.from(encodeName(entry.name)).toString("latin1"));
    expect(names.sort()).toEqual(["bad-link", "caf\xc3\xa9", "f\xef\xbf\xbd", "f\xfe", "f\xff"]);
    expect(new TextDecoder().decode(view.read(view.resolve(`/${bytes(0x66, 0xfe)}`), 0, 10))).toBe("first");
  });
});
