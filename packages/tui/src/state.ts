// The TUI's state and its one reducer. Selections are kept by identity (branch id, path, log
// offset, problem index), not by row number, so a live refresh that adds or removes rows keeps the
// cursor on the same thing while it still exists.

export type Screen = "browse" | "log" | "diff" | "validate";
export type Pane = "branches" | "files" | "preview";
/** The lists a cursor moves in. */
export type List = "branches" | "files" | "log" | "diff" | "problems";

/** Where the preview is: a byte offset and the line number there; `back` is for page-up. */
export interface PreviewPosition {
  offset: number;
  line: number;
  back: { offset: number; line: number }[];
}

export interface State {
  screen: Screen;
  focus: Pane;
  help: boolean;
  /** Selected key per list. */
  selected: Record<List, string | undefined>;
  /** Expanded directories of the file pane, by path. */
  expanded: ReadonlySet<string>;
  preview: PreviewPosition;
  /** Text being typed after `/`, or null when not searching. */
  searchInput: string | null;
  /** The applied search: the file pane lists matches over the whole view. */
  search: string;
  /** Log filter: a delta type name, or "" for all. */
  logType: string;
  /** Log filter: one inode, or null for all. */
  logIno: number | null;
  /** The diff screen's pane with the cursor: the changed paths, or the text (then scrolled). */
  diffText: boolean;
  /** First line of the diff text shown. */
  diffScroll: number;
  /** The branch the diff compares against; undefined = the parent. */
  diffAgainst: string | undefined;
  /**
   * Where a jump came from, to return to exactly: the screen, and the branch and diff pair shown
   * there (a diff's Enter may jump to the other branch).
   */
  returnTo: { screen: Screen; branch: string | undefined; diffAgainst: string | undefined } | null;
  /** Bumped by the live refresh: derived data is recomputed. */
  revision: number;
}

export const initialState = (screen: Screen = "browse"): State => ({
  screen,
  focus: "branches",
  help: false,
  selected: { branches: undefined, files: undefined, log: undefined, diff: undefined, problems: undefined },
  expanded: new Set(["/"]),
  preview: { offset: 0, line: 1, back: [] },
  searchInput: null,
  search: "",
  logType: "",
  logIno: null,
  diffText: false,
  diffScroll: 0,
  diffAgainst: undefined,
  returnTo: null,
  revision: 0,
});

export type Action =
  | { type: "screen"; screen: Screen }
  | { type: "focus"; pane: Pane }
  | { type: "cycleFocus" }
  | { type: "toggleHelp" }
  /**
   * Moves the cursor `delta` rows in `keys`: from the selection when it is one of them (so keys of
   * one burst add up), else from `current`, the row shown selected.
   */
  | { type: "move"; list: List; keys: readonly string[]; current: string | undefined; delta: number }
  | { type: "select"; list: List; key: string | undefined }
  | { type: "toggleExpand"; path: string }
  | { type: "collapse"; path: string }
  | { type: "previewPage"; next: { offset: number; line: number } }
  | { type: "previewBack" }
  | { type: "searchStart" }
  | { type: "searchType"; text: string }
  /** Typed keys add to the search text; several in one read each add (state, not the render's copy). */
  | { type: "searchAppend"; text: string }
  | { type: "searchErase" }
  | { type: "searchEnd"; apply: boolean }
  | { type: "logType"; name: string }
  | { type: "logIno"; ino: number | null }
  | { type: "diffAgainst"; branch: string | undefined }
  | { type: "diffPane" }
  /** Scrolls the diff text `delta` lines, within the `lines` it has. */
  | { type: "diffScroll"; delta: number; lines: number }
  | { type: "jumpToFile"; branchKey: string | undefined; path: string; from: Screen }
  | { type: "jumpBack" }
  | { type: "refresh" };

const FOCUS_ORDER: Pane[] = ["branches", "files", "preview"];
const TOP = { offset: 0, line: 1, back: [] };

/** Every directory above `path` ("/a/b/c" -> "/", "/a", "/a/b"). */
export function ancestors(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  const out = ["/"];
  for (let i = 1; i < parts.length; i++) out.push(`/${parts.slice(0, i).join("/")}`);
  return out;
}

export function reducer(state: State, action: Action): State {
  switch (action.type) {
    case "screen":
      return { ...state, screen: action.screen, help: false, returnTo: null };
    case "focus":
      return { ...state, focus: action.pane };
    case "cycleFocus": {
      const at = FOCUS_ORDER.indexOf(state.focus);
      return { ...state, focus: FOCUS_ORDER[(at + 1) % FOCUS_ORDER.length] as Pane };
    }
    case "toggleHelp":
      return { ...state, help: !state.help };
    case "move": {
      if (action.keys.length === 0) return state;
      const selected = state.selected[action.list];
      const current = selected !== undefined && action.keys.includes(selected) ? selected : action.current;
      const from = Math.max(action.keys.indexOf(current ?? ""), 0);
      const to = Math.max(0, Math.min(action.keys.length - 1, from + action.delta));
      return select(state, action.list, action.keys[to]);
    }
    case "select":
      return select(state, action.list, action.key);
    case "toggleExpand": {
      const expanded = new Set(state.expanded);
      if (expanded.has(action.path) && action.path !== "/") expanded.delete(action.path);
      else expanded.add(action.path);
      return { ...state, expanded };
    }
    case "collapse": {
      const expanded = new Set([...state.expanded].filter((p) => p === "/" || !isWithin(p, action.path)));
      return { ...state, expanded, selected: { ...state.selected, files: action.path }, preview: TOP };
    }
    case "previewPage":
      // The same page asked for twice (keys of one burst see one frame) turns it once.
      if (action.next.offset === state.preview.offset && action.next.line === state.preview.line)
        return state;
      return {
        ...state,
        preview: {
          ...action.next,
          back: [...state.preview.back, { offset: state.preview.offset, line: state.preview.line }],
        },
      };
    case "previewBack": {
      const back = [...state.preview.back];
      const previous = back.pop();
      return previous ? { ...state, preview: { ...previous, back } } : state;
    }
    case "searchStart":
      return { ...state, searchInput: state.search };
    case "searchType":
      return { ...state, searchInput: action.text };
    case "searchAppend":
      return { ...state, searchInput: (state.searchInput ?? "") + action.text };
    case "searchErase":
      return { ...state, searchInput: (state.searchInput ?? "").slice(0, -1) };
    case "searchEnd":
      return {
        ...state,
        search: action.apply ? (state.searchInput ?? "") : state.search,
        searchInput: null,
        selected: { ...state.selected, files: action.apply ? undefined : state.selected.files },
        // An applied search shows its first match: that file's preview starts at the top.
        preview: action.apply ? TOP : state.preview,
      };
    case "logType":
      return { ...state, logType: action.name };
    case "logIno":
      return { ...state, logIno: action.ino };
    case "diffAgainst":
      return {
        ...state,
        diffAgainst: action.branch,
        diffScroll: 0,
        selected: { ...state.selected, diff: undefined },
      };
    case "diffPane":
      return { ...state, diffText: !state.diffText };
    case "diffScroll":
      return {
        ...state,
        diffScroll: Math.max(0, Math.min(action.lines - 1, state.diffScroll + action.delta)),
      };
    case "jumpToFile": {
      const expanded = new Set([...state.expanded, ...ancestors(action.path)]);
      return {
        ...state,
        screen: "browse",
        focus: "files",
        search: "",
        expanded,
        selected: { ...state.selected, branches: action.branchKey, files: action.path },
        preview: TOP,
        returnTo: { screen: action.from, branch: state.selected.branches, diffAgainst: state.diffAgainst },
      };
    }
    case "jumpBack": {
      const from = state.returnTo;
      if (!from) return state;
      const sameBranch = from.branch === state.selected.branches;
      return {
        ...state,
        screen: from.screen,
        returnTo: null,
        selected: {
          ...state.selected,
          branches: from.branch,
          files: sameBranch ? state.selected.files : undefined,
        },
        expanded: sameBranch ? state.expanded : new Set(["/"]),
        preview: sameBranch ? state.preview : TOP,
        diffAgainst: from.diffAgainst,
      };
    }
    case "refresh":
      return { ...state, revision: state.revision + 1 };
  }
}

function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

function select(state: State, list: List, key: string | undefined): State {
  if (state.selected[list] === key) return state;
  const next = { ...state, selected: { ...state.selected, [list]: key } };
  // A new file or branch starts its preview at the top; a new branch starts with a fresh tree.
  if (list === "files") next.preview = TOP;
  if (list === "diff") next.diffScroll = 0;
  if (list === "branches") {
    next.preview = TOP;
    next.selected.files = undefined;
    next.expanded = new Set(["/"]);
    next.diffAgainst = undefined;
    next.diffScroll = 0;
  }
  return next;
}
