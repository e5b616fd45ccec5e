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
  { keys: ["pageUp"], command: "pageUp", help: "page up (preview: previous page)" },
  { keys: ["pageDown", "space"], command: "pageDown", help: "page down (preview: next page)" },
  { keys: ["tab"], command: "nextPane", help: "next pane: branches, files, preview", screens: ["browse"] },
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

/** What Ink's useInput reports, as far as the keymap needs it. */
export interface KeyPress {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
  ctrl?: boolean;
}

/** The key name of one press: a named key, "ctrl-x", "space" or the character. */
export function keyName(input: string, key: KeyPress): string {
  if (key.upArrow) return "up";
  if (key.downArrow) return "down";
  if (key.leftArrow) return "left";
  if (key.rightArrow) return "right";
  if (key.pageUp) return "pageUp";
  if (key.pageDown) return "pageDown";
  if (key.return) return "return";
  if (key.escape) return "escape";
  if (key.tab) return "tab";
  if (key.backspace) return "backspace";
  if (key.delete) return "delete";
  if (key.ctrl) return `ctrl-${input}`;
  if (input === " ") return "space";
  return input;
}

export function commandFor(name: string, screen: Screen): Command | undefined {
  return KEYMAP.find((b) => b.keys.includes(name) && (!b.screens || b.screens.includes(screen)))?.command;
}
