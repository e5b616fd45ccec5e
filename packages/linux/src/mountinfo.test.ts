import { describe, expect, it } from "vitest";
import { mountOption, parseMountInfo, unescapeMountField } from "./mountinfo.js";

const sample = [
  "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw",
  "98 27 0:52 / /mnt/dax\\040one rw,relatime shared:40 master:2 - daxfs none rw,source=dmabuf,size=67108864,branch=/main/feature",
  "99 27 0:53 / /mnt/f ro,nosuid,nodev,relatime - fuse.daxfs /img/with\\040space.daxfs ro,user_id=0,group_id=0",
  "garbage line",
  "",
].join("\n");

describe("parseMountInfo", () => {
  it("splits fields, optional tags and options, and decodes octal escapes", () => {
    const mounts = parseMountInfo(sample);
    expect(mounts).toHaveLength(3);
    expect(mounts[1]).toEqual({
      mountId: 98,
      parentId: 27,
      device: "0:52",
      root: "/",
      mountPoint: "/mnt/dax one",
      mountOptions: ["rw", "relatime"],
      optionalFields: ["shared:40", "master:2"],
      fstype: "daxfs",
      source: "none",
      superOptions: ["rw", "source=dmabuf", "size=67108864", "branch=/main/feature"],
    });
    expect(mounts[2]).toMatchObject({
      fstype: "fuse.daxfs",
      source: "/img/with space.daxfs",
      optionalFields: [],
    });
    expect(mountOption(mounts[1]?.superOptions ?? [], "branch")).toBe("/main/feature");
    expect(mountOption(mounts[1]?.superOptions ?? [], "rw")).toBe("");
    expect(mountOption(mounts[1]?.superOptions ?? [], "phys")).toBeUndefined();
  });

  it("decodes every escape the kernel writes", () => {
    expect(unescapeMountField("a\\040b\\011c\\012d\\134e")).toBe("a b\tc\nd\\e");
  });
});
