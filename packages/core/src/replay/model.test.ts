// Model test: random POSIX operation sequences, encoded as delta entries spread over a nested
// chain (main -> b1 -> b2), replayed by BranchView and compared with a plain in-memory tree.
import { DeltaType, FileType } from "@daxfs/format";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NewDeltaEntry } from "../delta/entry.js";
import { DaxfsImage } from "../image.js";
import { MemoryImage } from "../image-source.js";
import {
  addTestBranch,
  appendTestEntries,
  buildTestImage,
  testDir,
  testFile,
  testSymlink,
} from "../testing/index.js";
import type { BranchView } from "../view.js";

interface ModelNode {
  type: number;
  perm: number;
  uid: number;
  gid: number;
  data: Uint8Array;
  target: string;
  children: Map<string, number>;
}

const NAMES = ["a", "b", "c", "dd", "ee"];

class Model {
  nodes = new Map<number, ModelNode>();

  entries(): { dir: number; name: string; ino: number }[] {
    const out: { dir: number; name: string; ino: number }[] = [];
    const pending = [1];
    while (pending.length > 0) {
      const dir = pending.pop() as number;
      for (const [name, ino] of (this.nodes.get(dir) as ModelNode).children) {
        out.push({ dir, name, ino });
        if (this.node(ino).type === FileType.DIR) pending.push(ino);
      }
    }
    return out;
  }

  node(ino: number): ModelNode {
    return this.nodes.get(ino) as ModelNode;
  }

  isInside(ino: number, ancestor: number): boolean {
    if (ino === ancestor) return true;
    for (const { dir, ino: child } of this.entries()) if (child === ino) return this.isInside(dir, ancestor);
    return false;
  }

  nlink(ino: number): number {
    const node = this.node(ino);
    if (node.type === FileType.DIR)
      return 2 + [...node.children.values()].filter((c) => this.node(c).type === FileType.DIR).length;
    return this.entries().filter((e) => e.ino === ino).length;
  }

  describe(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const pending: [string, number][] = [["/", 1]];
    while (pending.length > 0) {
      const [path, ino] = pending.pop() as [string, number];
      const node = this.node(ino);
      out[path] = {
        mode: node.type | node.perm,
        uid: node.uid,
        gid: node.gid,
        nlink: this.nlink(ino),
        ...(node.type === FileType.REGULAR
          ? { size: node.data.length, content: [...node.data].join(",") }
          : {}),
        ...(node.type === FileType.SYMLINK
          ? { size: new TextEncoder().encode(node.target).length, target: node.target }
          : {}),
      };
      for (const [name, child] of node.children) pending.push([`${path === "/" ? "" : path}/${name}`, child]);
    }
    return out;
  }
}

function describeView(view: BranchView): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { path, ino, stat } of view.walk()) {
    const type = stat.mode & 0o170000;
    out[path] = {
      mode: stat.mode,
      uid: stat.uid,
      gid: stat.gid,
      nlink: stat.nlink,
      ...(type === FileType.REGULAR
        ? { size: stat.size, content: [...view.read(ino, 0, stat.size + 10)].join(",") }
        : {}),
      ...(type === FileType.SYMLINK ? { size: stat.size, target: view.readlink(ino) } : {}),
    };
  }
  return out;
}

interface Seed {
  kind: number;
  a: number;
  b: number;
  c: number;
  name: number;
  data: Uint8Array;
  deleteFirst: boolean;
}

/** Turns a seed into entries valid for the model's current state (or none), applying them to it. */
function step(model: Model, seed: Seed, allocate: () => number): NewDeltaEntry[] {
  const entries = model.entries();
  const dirs = [1, ...entries.filter((e) => model.node(e.ino).type === FileType.DIR).map((e) => e.ino)];
  const files = entries.filter((e) => model.node(e.ino).type === FileType.REGULAR).map((e) => e.ino);
  const name = NAMES[seed.name % NAMES.length] as string;
  const newNode = (type: number, perm: number, uid: number, gid: number): ModelNode => ({
    type,
    perm,
    uid,
    gid,
    data: new Uint8Array(0),
    target: "",
    children: new Map(),
  });
  switch (seed.kind) {
    case 0:
    case 1:
    case 2: {
      const dir = dirs[seed.a % dirs.length] as number;
      if (model.node(dir).children.has(name)) return [];
      const ino = allocate();
      const uid = seed.b % 3;
      const gid = seed.c % 3;
      model.node(dir).children.set(name, ino);
      if (seed.kind === 0) {
        model.nodes.set(ino, newNode(FileType.REGULAR, seed.b & 0o777, uid, gid));
        return [
          {
            type: DeltaType.CREATE,
            ino,
            parentIno: dir,
            newIno: ino,
            mode: FileType.REGULAR | (seed.b & 0o777),
            uid,
            gid,
            name,
          },
        ];
      }
      if (seed.kind === 1) {
        model.nodes.set(ino, newNode(FileType.DIR, seed.b & 0o777, uid, gid));
        return [
          {
            type: DeltaType.MKDIR,
            ino,
            parentIno: dir,
            newIno: ino,
            mode: FileType.DIR | (seed.b & 0o777),
            uid,
            gid,
            name,
          },
        ];
      }
      const target = `t${seed.c}`;
      model.nodes.set(ino, { ...newNode(FileType.SYMLINK, 0o777, uid, gid), target });
      return [{ type: DeltaType.SYMLINK, ino, parentIno: dir, newIno: ino, uid, gid, name, target }];
    }
    case 3:
    case 4: {
      if (files.length === 0) return [];
      const ino = files[seed.a % files.length] as number;
      const node = model.node(ino);
      if (seed.kind === 3 && seed.data.length > 0) {
        const offset = seed.b % 48;
        const grown = new Uint8Array(Math.max(node.data.length, offset + seed.data.length));
        grown.set(node.data);
        grown.set(seed.data, offset);
        node.data = grown;
        return [{ type: DeltaType.WRITE, ino, fileOffset: offset, data: seed.data }];
      }
      const size = seed.b % 64;
      const resized = new Uint8Array(size);
      resized.set(node.data.subarray(0, size));
      node.data = resized;
      return seed.c % 2 === 0
        ? [{ type: DeltaType.TRUNCATE, ino, newSize: size }]
        : [{ type: DeltaType.SETATTR, ino, mode: 0, uid: 0, gid: 0, valid: 8, size }];
    }
    case 5: {
      if (entries.length === 0) return [];
      const { ino } = entries[seed.a % entries.length] as (typeof entries)[number];
      const node = model.node(ino);
      const valid = seed.c % 8;
      if (valid & 1) node.perm = seed.b & 0o7777;
      if (valid & 2) node.uid = seed.b % 5;
      if (valid & 4) node.gid = seed.c % 7;
      return [
        {
          type: DeltaType.SETATTR,
          ino,
          mode: (seed.b & 0o7777) | (seed.a & 1 ? node.type : 0),
          uid: seed.b % 5,
          gid: seed.c % 7,
          valid,
          size: 0,
        },
      ];
    }
    case 6: {
      if (entries.length === 0) return [];
      const { dir, name: victim, ino } = entries[seed.a % entries.length] as (typeof entries)[number];
      if (model.node(ino).children.size > 0) return [];
      model.node(dir).children.delete(victim);
      return [{ type: DeltaType.DELETE, ino, parentIno: dir, name: victim }];
    }
    default: {
      if (entries.length === 0) return [];
      const { dir: from, name: oldName, ino } = entries[seed.a % entries.length] as (typeof entries)[number];
      const to = dirs[seed.b % dirs.length] as number;
      const moving = model.node(ino);
      if (moving.type === FileType.DIR && model.isInside(to, ino)) return [];
      const target = model.node(to).children.get(name);
      const out: NewDeltaEntry[] = [];
      if (target !== undefined) {
        if (target === ino) return [];
        const victim = model.node(target);
        if ((victim.type === FileType.DIR) !== (moving.type === FileType.DIR) || victim.children.size > 0)
          return [];
        if (seed.deleteFirst) out.push({ type: DeltaType.DELETE, ino: target, parentIno: to, name });
      }
      model.node(from).children.delete(oldName);
      model.node(to).children.set(name, ino);
      out.push({
        type: DeltaType.RENAME,
        ino,
        oldParentIno: from,
        newParentIno: to,
        renamedIno: ino,
        oldName,
        newName: name,
      });
      return out;
    }
  }
}

const seedArb: fc.Arbitrary<Seed> = fc.record({
  kind: fc.nat(7),
  a: fc.nat(1000),
  b: fc.nat(0o7777),
  c: fc.nat(1000),
  name: fc.nat(NAMES.length - 1),
  data: fc.uint8Array({ minLength: 0, maxLength: 12 }),
  deleteFirst: fc.boolean(),
});

describe("replay model", () => {
  it("a nested chain replays to the tree a plain POSIX model computes", () => {
    fc.assert(
      fc.property(fc.array(seedArb, { maxLength: 40 }), fc.nat(40), fc.nat(40), (seeds, cut1, cut2) => {
        const shared = testFile("base bytes of a hard link");
        const image = buildTestImage(
          testDir({ a: shared, sub: testDir({ b: shared, c: testFile("cc") }), l: testSymlink("a") }),
        );
        const model = new Model();
        // Mirror the base into the model.
        const base = DaxfsImage.open(new MemoryImage(image.bytes)).view();
        for (const { ino, stat } of base.walk()) {
          const type = stat.mode & 0o170000;
          model.nodes.set(ino, {
            type,
            perm: stat.mode & 0o7777,
            uid: stat.uid,
            gid: stat.gid,
            data: type === FileType.REGULAR ? base.read(ino, 0, stat.size).slice() : new Uint8Array(0),
            target: type === FileType.SYMLINK ? base.readlink(ino) : "",
            children:
              type === FileType.DIR ? new Map(base.readdir(ino).map((e) => [e.name, e.ino])) : new Map(),
          });
        }
        addTestBranch(image.bytes, { name: "b1", parent: "main" });
        addTestBranch(image.bytes, { name: "b2", parent: "b1" });
        const daxfs = DaxfsImage.open(new MemoryImage(image.bytes));
        const live = daxfs.view("b2");
        let next = image.nextInodeId;
        const [first, second] = [Math.min(cut1, cut2), Math.max(cut1, cut2)];
        let b1Expected: Record<string, unknown> | undefined;
        seeds.forEach((seed, i) => {
          const branch = i < first ? "main" : i < second ? "b1" : "b2";
          if (i === second) b1Expected = model.describe();
          const entries = step(model, seed, () => next++);
          if (entries.length > 0) appendTestEntries(image.bytes, branch, entries);
          if (i % 7 === 0) live.stat(1); // index incrementally part way
        });
        b1Expected ??= model.describe();
        const expected = model.describe();
        expect(describeView(live)).toEqual(expected);
        expect(describeView(daxfs.view("b2"))).toEqual(expected);
        expect(describeView(daxfs.view("b1"))).toEqual(b1Expected);
      }),
      { numRuns: Number(process.env.DAXFS_MODEL_RUNS ?? 150) },
    );
  });
});
