// Every key the TUI answers to, in one table: the input handler looks keys up here and the `?`
// overlay prints this table, so the two cannot disagree.
import type { Screen } from "./state.js";

export type Command =
  | "quit"
  | "help"
  | "up"
  | "down"
  | "pageUp"
  | "pageDown"
  | "nextPane"
  | "open"
  | "collapse"
  | "search"
  | "clearSearch"
  | "browse"
  | "log"
  | "diff"
  | "validate"
  | "logType"
  | "logIno"
  | "diffAgainst"
  | "back";

export interface Binding {
  /** Key names: a printable character, or one of Ink's named keys ("up", "return", "tab"...). */
  keys: string[];
  command: Command;
  help: string;
  /** Screens where the binding applies; all when absent. */
  screens?: Screen[];
}

export const KEYMAP: readonly Binding[] = [
  { keys: ["q", "ctrl-c"], command: "quit", help: "quit" },
  { keys: ["?"], command: "help", help: "this help (any key closes it)" },
  { keys: ["up", "k"], command: "up", help: "move up" },
  { keys: ["down", "j"], command: "down", help: "move down" },
  { keys: ["pageUp"], command: "pageUp", help: "page up (preview: previous page; diff text: scroll)" },
  {
    keys: ["pageDown", "space"],
    command: "pageDown",
    help: "page down (preview: next page; diff text: scroll)",
  },
  {
    keys: ["tab"],
    command: "nextPane",
    help: "next pane (diff: list, text)",
    screens: ["browse", "diff"],
  },
  {
    keys: ["return", "right", "l"],
    command: "open",
    help: "expand a directory / jump to what an item names",
  },
  { keys: ["left", "h"], command: "collapse", help: "collapse the directory", screens: ["browse"] },
  { keys: ["/"], command: "search", help: "search names over the whole branch", screens: ["browse"] },
  { keys: ["escape"], command: "clearSearch", help: "clear the search", screens: ["browse"] },
  { keys: ["b", "1"], command: "browse", help: "browse: branches, files, preview" },
  { keys: ["L", "2"], command: "log", help: "log of the selected branch" },
  { keys: ["d", "3"], command: "diff", help: "diff of the selected branch" },
  { keys: ["v", "4"], command: "validate", help: "validation report" },
  { keys: ["t"], command: "logType", help: "cycle the log's type filter", screens: ["log"] },
  {
    keys: ["i"],
    command: "logIno",
    help: "filter the log by the entry's inode (again: all)",
    screens: ["log"],
  },
  {
    keys: ["a"],
    command: "diffAgainst",
    help: "compare against the next branch (parent first)",
    screens: ["diff"],
  },
  { keys: ["backspace", "delete"], command: "back", help: "back to where a jump came from" },
];

/** Escape sequences of the named keys (xterm and its application-cursor variants). */
const SEQUENCES: Record<string, string> = {
  "\u001b[A": "up",
  "\u001b[B": "down",
  "\u001b[C": "right",
  "\u001b[D": "left",
  "\u001bOA": "up",
  "\u001bOB": "down",
  "\u001bOC": "right",
  "\u001bOD": "left",
  "\u001b[5~": "pageUp",
  "\u001b[6~": "pageDown",
  "\u001b[3~": "delete",
};

/**
 * The key names in one read of the terminal: a burst (a held key repeating, a paste, keys typed
 * faster than a frame) holds several, and each counts. Names: those of SEQUENCES, "return", "tab",
 * "escape", "backspace", "space", "ctrl-X", or the character itself. Sequences of other keys
 * (function keys, Home, End) are skipped whole.
 */
export function splitKeys(data: string): string[] {
  const names: string[] = [];
  let at = 0;
  while (at < data.length) {
    const char = data[at] as string;
    if (char === "\u001b") {
      const rest = data.slice(at);
      const known = Object.keys(SEQUENCES).find((sequence) => rest.startsWith(sequence));
      if (known) {
        names.push(SEQUENCES[known] as string);
        at += known.length;
        continue;
      }
      // CSI (ESC [ params final) or SS3 (ESC O final) of a key not bound: skip it whole.
      const csi = /^(?:\[[0-9;?]*[@-~]|O[@-~])/.exec(rest.slice(1));
      if (csi) {
        at += 1 + csi[0].length;
        continue;
      }
      names.push("escape");
      at++;
      continue;
    }
    const code = char.charCodeAt(0);
    if (char === "\r" || char === "\n") names.push("return");
    else if (char === "\t") names.push("tab");
    else if (char === "\u007f" || char === "\b") names.push("backspace");
    else if (char === " ") names.push("space");
    else if (code > 0 && code < 27) names.push(`ctrl-${String.fromCharCode(code + 96)}`);
    else if (code >= 32) {
      // One character (a surrogate pair stays whole).
      const point = String.fromCodePoint(data.codePointAt(at) as number);
      names.push(point);
      at += point.length;
      continue;
    }
    at++;
  }
  return names;
}

export function commandFor(name: string, screen: Screen): Command | undefined {
  return KEYMAP.find((b) => b.keys.includes(name) && (!b.screens || b.screens.includes(screen)))?.command;
}
