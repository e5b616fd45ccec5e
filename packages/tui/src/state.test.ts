import { describe, expect, it } from "vitest";
import { ancestors, initialState, reducer, type State } from "./state.js";

const run = (state: State, ...actions: Parameters<typeof reducer>[1][]) => actions.reduce(reducer, state);

describe("reducer", () => {
  it("moves a cursor by key, clamped to the list, from the row shown selected", () => {
    const keys = ["a", "b", "c"];
    let s = run(initialState(), { type: "move", list: "files", keys, current: undefined, delta: 1 });
    expect(s.selected.files).toBe("b");
    s = run(s, { type: "move", list: "files", keys, current: "b", delta: 10 });
    expect(s.selected.files).toBe("c");
    s = run(s, { type: "move", list: "files", keys, current: "c", delta: -10 });
    expect(s.selected.files).toBe("a");
    expect(run(s, { type: "move", list: "files", keys: [], current: "a", delta: 1 })).toBe(s);
  });

  it("keeps a selection by identity when rows are added before it", () => {
    const s = run(initialState(), { type: "select", list: "files", key: "/etc/motd" });
    const keys = ["/a", "/b", "/etc", "/etc/motd"];
    expect(
      run(s, { type: "move", list: "files", keys, current: s.selected.files, delta: 1 }).selected.files,
    ).toBe("/etc/motd");
    expect(run(s, { type: "refresh" }).selected.files).toBe("/etc/motd");
  });

  it("resets the file tree, preview and diff target when the branch changes", () => {
    const s = run(
      initialState(),
      { type: "toggleExpand", path: "/etc" },
      { type: "select", list: "files", key: "/etc/motd" },
      { type: "previewPage", next: { offset: 100, line: 5 } },
      { type: "diffAgainst", branch: "other" },
      { type: "select", list: "branches", key: "2" },
    );
    expect([...s.expanded]).toEqual(["/"]);
    expect(s.selected.files).toBeUndefined();
    expect(s.preview).toEqual({ offset: 0, line: 1, back: [] });
    expect(s.diffAgainst).toBeUndefined();
  });

  it("pages the preview forward and back through its history", () => {
    let s = run(
      initialState(),
      { type: "previewPage", next: { offset: 100, line: 5 } },
      { type: "previewPage", next: { offset: 250, line: 9 } },
    );
    expect(s.preview).toMatchObject({ offset: 250, line: 9 });
    s = run(s, { type: "previewBack" });
    expect(s.preview).toMatchObject({ offset: 100, line: 5 });
    s = run(s, { type: "previewBack" }, { type: "previewBack" });
    expect(s.preview).toEqual({ offset: 0, line: 1, back: [] });
  });

  it("collapses a directory with everything expanded below it, and never the root", () => {
    const s = run(
      initialState(),
      { type: "toggleExpand", path: "/a" },
      { type: "toggleExpand", path: "/a/b" },
      { type: "toggleExpand", path: "/ab" },
      { type: "collapse", path: "/a" },
      { type: "toggleExpand", path: "/" },
    );
    expect([...s.expanded].sort()).toEqual(["/", "/ab"]);
    expect(s.selected.files).toBe("/a");
  });

  it("types, applies and cancels a search", () => {
    let s = run(initialState(), { type: "searchStart" }, { type: "searchType", text: "mo" });
    expect(s.searchInput).toBe("mo");
    s = run(s, { type: "searchEnd", apply: true });
    expect([s.search, s.searchInput]).toEqual(["mo", null]);
    s = run(
      s,
      { type: "searchStart" },
      { type: "searchType", text: "xyz" },
      { type: "searchEnd", apply: false },
    );
    expect(s.search).toBe("mo");
  });

  it("jumps to a file expanding its ancestors, and back to the screen it came from", () => {
    let s = run(initialState("log"), {
      type: "jumpToFile",
      branchKey: "2",
      path: "/etc/x/new",
      from: "log",
    });
    expect(s.screen).toBe("browse");
    expect(s.focus).toBe("files");
    expect([...s.expanded].sort()).toEqual(["/", "/etc", "/etc/x"]);
    expect(s.selected).toMatchObject({ branches: "2", files: "/etc/x/new" });
    s = run(s, { type: "jumpBack" });
    expect(s.screen).toBe("log");
    expect(run(s, { type: "jumpBack" })).toBe(s);
  });

  it("starts the preview of a search's first match at the top (the paged position is the old file's)", () => {
    const s = run(
      initialState(),
      { type: "select", list: "files", key: "/adduser/copyright" },
      { type: "previewPage", next: { offset: 866, line: 5 } },
      { type: "searchStart" },
      { type: "searchType", text: "live.txt" },
      { type: "searchEnd", apply: true },
    );
    expect(s.preview).toEqual({ offset: 0, line: 1, back: [] });
  });

  it("keeps the preview position when a search is cancelled", () => {
    const s = run(
      initialState(),
      { type: "previewPage", next: { offset: 866, line: 5 } },
      { type: "searchStart" },
      { type: "searchEnd", apply: false },
    );
    expect(s.preview).toMatchObject({ offset: 866, line: 5 });
  });

  it("returns from a diff's jump to the other branch to the same branch pair", () => {
    let s = run(
      initialState(),
      { type: "select", list: "branches", key: "1" },
      { type: "diffAgainst", branch: "try2" },
      { type: "screen", screen: "diff" },
      { type: "jumpToFile", branchKey: "2", path: "/f", from: "diff" },
    );
    expect(s.selected.branches).toBe("2");
    s = run(s, { type: "jumpBack" });
    expect(s.screen).toBe("diff");
    expect(s.selected.branches).toBe("1");
    expect(s.diffAgainst).toBe("try2");
  });

  it("scrolls the diff text within its lines, from the top for each change", () => {
    let s = run(initialState("diff"), { type: "diffPane" }, { type: "diffScroll", delta: 5, lines: 40 });
    expect([s.diffText, s.diffScroll]).toEqual([true, 5]);
    s = run(s, { type: "diffScroll", delta: 100, lines: 40 });
    expect(s.diffScroll).toBe(39);
    s = run(s, { type: "diffScroll", delta: -100, lines: 40 });
    expect(s.diffScroll).toBe(0);
    s = run(s, { type: "diffScroll", delta: 7, lines: 40 }, { type: "select", list: "diff", key: "/b" });
    expect(s.diffScroll).toBe(0);
  });

  it("cycles the focus and toggles the help", () => {
    const s = run(initialState(), { type: "cycleFocus" }, { type: "cycleFocus" }, { type: "toggleHelp" });
    expect(s.focus).toBe("preview");
    expect(s.help).toBe(true);
    expect(run(s, { type: "cycleFocus" }).focus).toBe("branches");
  });

  it("lists a path's ancestors", () => {
    expect(ancestors("/")).toEqual(["/"]);
    expect(ancestors("/a")).toEqual(["/"]);
    expect(ancestors("/a/b/c")).toEqual(["/", "/a", "/a/b"]);
  });
});
