import { describe, expect, it } from "vitest";
import { tuiArguments } from "./tui.js";

describe("daxfs-inspect tui", () => {
  it("hands daxfs-tui the same target", () => {
    expect(tuiArguments({ image: "a.img" })).toEqual(["a.img"]);
    expect(tuiArguments({ image: "a.img", backing: "a.data" })).toEqual(["a.img", "--backing", "a.data"]);
    expect(tuiArguments({ mount: "/mnt/dax" })).toEqual(["-m", "/mnt/dax"]);
    expect(tuiArguments({ phys: "0x100000000", size: "1G" })).toEqual(["-p", "0x100000000", "-s", "1G"]);
  });
});
