// The TUI: one reducer for the state, the derived data of app-data.ts, one input handler that maps
// keys through the keymap, and the screens laid out for the terminal's size.
import { deltaTypeName } from "@daxfs/core";
import { BranchState, DeltaType } from "@daxfs/format";
import { branchLabel } from "@daxfs/inspect";
import { Box, useApp } from "ink";
import { useCallback, useReducer, useRef, useState } from "react";
import { useAppData } from "../app-data.js";
import { count, isDir, problemTarget } from "../derive.js";
import { useBranchMounts, useKeys, useLiveRefresh, useTerminalSize } from "../hooks.js";
import { type Command, commandFor } from "../keymap.js";
import type { TargetPaths } from "../mounts.js";
import { load, type Session } from "../session.js";
import { type Action, initialState, reducer, type Screen } from "../state.js";
import { BrowseScreen } from "./BrowseScreen.js";
import { DiffScreen } from "./DiffScreen.js";
import { Header } from "./Header.js";
import { HelpOverlay } from "./HelpOverlay.js";
import { LogScreen } from "./LogScreen.js";
import { StatusBar } from "./StatusBar.js";
import { ValidateScreen } from "./ValidateScreen.js";

export interface AppProps {
  session: Session;
  /** The live refresh's poll interval; 0 turns it off. */
  pollMs?: number;
  /** A fixed screen size instead of the terminal's (tests). */
  size?: { columns: number; rows: number };
  /** What the TUI was opened on, to find where branches are mounted; none looked up when absent. */
  target?: TargetPaths;
}

const LOG_TYPES = [
  "",
  ...Object.values(DeltaType)
    .filter((v): v is number => typeof v === "number")
    .map(deltaTypeName),
];

export function App({ session, pollMs = 500, size, target: opened }: AppProps) {
  const { exit } = useApp();
  // The validator runs once at startup (it is bounded): an image it finds problems in opens in the
  // validation view, even when the superblocks decode (a bad branch record, a garbled log).
  const [startupProblems] = useState(() => {
    const report = session.validate();
    return report.problems.length + report.omitted;
  });
  const [state, applyAction] = useReducer(
    reducer,
    session.image && startupProblems === 0 ? "browse" : "validate",
    initialState,
  );
  // The state as of the last action, ahead of the render: the keys of one burst see the help and
  // search modes and the screen that the keys before them set.
  const latest = useRef(state);
  latest.current = state;
  const dispatch = useCallback((action: Action) => {
    latest.current = reducer(latest.current, action);
    applyAction(action);
  }, []);
  const terminal = useTerminalSize();
  const { columns, rows: termRows } = size ?? terminal;
  const rev = state.revision;

  const refresh = useCallback(() => dispatch({ type: "refresh" }), [dispatch]);
  useLiveRefresh(session, pollMs, refresh);
  const mounts = useBranchMounts(session, opened, rev);

  const {
    summary,
    parentName,
    imageError,
    branchRows,
    branchKeys,
    branchKey,
    record,
    staticImage,
    focus,
    target,
    branch,
    marks,
    files,
    fileList,
    fileKeys,
    file,
    body,
    branchHeight,
    lowerHeight,
    filesWidth,
    preview,
    log,
    logEntries,
    logEntry,
    diff,
    changes,
    change,
    diffContent,
    report,
    problemKeys,
  } = useAppData(session, state, size ?? terminal);

  const [message, setMessage] = useState("");

  const move = (delta: number) => {
    if (state.screen === "diff" && state.diffText)
      return dispatch({ type: "diffScroll", delta, lines: diffContent.length });
    const list = (
      list: "branches" | "files" | "log" | "diff" | "problems",
      keys: readonly string[],
      current: string | undefined,
    ) => dispatch({ type: "move", list, keys, current, delta });
    if (state.screen === "log")
      list(
        "log",
        logEntries.map((e) => String(e.offset)),
        logEntry && String(logEntry.offset),
      );
    else if (state.screen === "diff")
      list(
        "diff",
        changes.map((c) => c.path),
        change?.path,
      );
    else if (state.screen === "validate") list("problems", problemKeys, state.selected.problems);
    else if (focus === "branches") list("branches", branchKeys, branchKey);
    else if (focus === "files") list("files", fileKeys, file?.path);
    else if (delta > 0 && preview?.ok && preview.value.next)
      dispatch({ type: "previewPage", next: preview.value.next });
    else if (delta < 0) dispatch({ type: "previewBack" });
  };

  const jumpToPath = (name: string, path: string, from: Screen) => {
    const key = branchRows.find((r) => r.record.name === name)?.record.id;
    dispatch({ type: "jumpToFile", branchKey: key === undefined ? undefined : String(key), path, from });
  };

  const open = () => {
    if (state.screen === "browse") {
      if (focus === "branches") dispatch({ type: "focus", pane: "files" });
      else if (focus === "files" && file) {
        if (isDir(file.mode) && state.search === "") dispatch({ type: "toggleExpand", path: file.path });
        else dispatch({ type: "focus", pane: "preview" });
      }
    } else if (state.screen === "log" && logEntry && branch !== undefined) {
      const path = load(() => session.pathOf(branch, logEntry.ino));
      if (path.ok && path.value !== undefined) jumpToPath(branch, path.value, "log");
      else setMessage(`inode ${logEntry.ino} is not in ${branch}'s tree now`);
    } else if (state.screen === "diff" && change && branch !== undefined) {
      const name = change.change === "removed" && diff?.ok ? diff.value.against.name : branch;
      jumpToPath(name, change.path, "diff");
    } else if (state.screen === "validate" && report) {
      const problem = report.problems[Number(state.selected.problems ?? 0)];
      jumpToProblem(problem?.structure ?? "");
    }
  };

  /** "branch N" (a slot), "delta NAME@OFF" and "inode N" name things the other screens show. */
  const jumpToProblem = (structure: string) => {
    const target = problemTarget(structure);
    const branchNamed = (name: string) =>
      branchRows.find((r) => r.record.name === name || `id ${r.record.id}` === name);
    if (target?.kind === "branch") {
      const found = branchRows.find((r) => r.record.slot === target.slot);
      if (found) {
        dispatch({ type: "select", list: "branches", key: String(found.record.id) });
        dispatch({ type: "screen", screen: "browse" });
        dispatch({ type: "focus", pane: "branches" });
        return;
      }
    } else if (target?.kind === "log") {
      const found = branchNamed(target.branch);
      if (found) {
        dispatch({ type: "select", list: "branches", key: String(found.record.id) });
        dispatch({ type: "select", list: "log", key: target.offset?.toString() });
        dispatch({ type: "screen", screen: "log" });
        return;
      }
    } else if (target?.kind === "inode" && session.image) {
      const path = load(() => session.pathOf("main", target.ino));
      if (path.ok && path.value !== undefined) return jumpToPath("main", path.value, "validate");
    }
    setMessage(structure ? `nothing to show for ${structure}` : "");
  };

  const run = (command: Command) => {
    setMessage("");
    switch (command) {
      case "quit":
        return exit();
      case "help":
        return dispatch({ type: "toggleHelp" });
      case "up":
        return move(-1);
      case "down":
        return move(1);
      case "pageUp":
        return state.screen === "browse" && focus === "preview" ? move(-1) : move(-(lowerHeight - 3));
      case "pageDown":
        return state.screen === "browse" && focus === "preview" ? move(1) : move(lowerHeight - 3);
      case "nextPane":
        return dispatch(state.screen === "diff" ? { type: "diffPane" } : { type: "cycleFocus" });
      case "open":
        return open();
      case "collapse":
        if (focus !== "files" || !file) return;
        if (isDir(file.mode) && file.expanded) return dispatch({ type: "toggleExpand", path: file.path });
        if (file.depth > 0)
          return dispatch({ type: "collapse", path: file.path.slice(0, file.path.lastIndexOf("/")) || "/" });
        return;
      case "search":
        dispatch({ type: "focus", pane: "files" });
        return dispatch({ type: "searchStart" });
      case "clearSearch":
        dispatch({ type: "searchStart" });
        dispatch({ type: "searchType", text: "" });
        return dispatch({ type: "searchEnd", apply: true });
      case "browse":
      case "log":
      case "diff":
      case "validate":
        return dispatch({ type: "screen", screen: command });
      case "logType":
        return dispatch({
          type: "logType",
          name: LOG_TYPES[(LOG_TYPES.indexOf(state.logType) + 1) % LOG_TYPES.length] ?? "",
        });
      case "logIno":
        return dispatch({ type: "logIno", ino: state.logIno === null && logEntry ? logEntry.ino : null });
      case "diffAgainst": {
        // undefined is the parent: its name is not listed again, so each comparison comes once.
        const others = [
          undefined,
          ...session.activeBranchNames().filter((n) => n !== branch && n !== parentName),
        ];
        return dispatch({
          type: "diffAgainst",
          branch: others[(others.indexOf(state.diffAgainst) + 1) % others.length],
        });
      }
      case "back":
        return dispatch({ type: "jumpBack" });
    }
  };

  useKeys((name) => {
    const now = latest.current;
    if (now.help) return dispatch({ type: "toggleHelp" });
    if (now.searchInput !== null) {
      if (name === "return") return dispatch({ type: "searchEnd", apply: true });
      if (name === "escape") return dispatch({ type: "searchEnd", apply: false });
      if (name === "backspace" || name === "delete") return dispatch({ type: "searchErase" });
      const char = name === "space" ? " " : [...name].length === 1 ? name : "";
      if (char) dispatch({ type: "searchAppend", text: char });
      return;
    }
    const command = commandFor(name, now.screen);
    if (command) run(command);
  });

  const staleNote = record && record.state !== BranchState.ACTIVE ? `${branchLabel(record)}: ESTALE` : "";
  const logFilter = `${state.logType ? `, type ${state.logType}` : ""}${state.logIno !== null ? `, inode ${state.logIno}` : ""}`;
  const diffTitle = diff?.ok
    ? `Diff ${branchLabel(diff.value.branch)} against ${branchLabel(diff.value.against)}${state.diffAgainst ? "" : " (parent)"}: ${count(changes.length, "change")}`
    : "Diff";

  let screen: JSX.Element;
  if (state.help) screen = <HelpOverlay height={body} />;
  else if (state.screen === "log")
    screen = (
      <LogScreen
        branch={record ? branchLabel(record) : "main"}
        entries={logEntries}
        total={log?.ok ? log.value.entries.length : 0}
        stoppedBy={log?.ok ? log.value.error : undefined}
        selected={logEntry ? String(logEntry.offset) : undefined}
        height={body}
        filter={logFilter}
        error={
          !record ? "no branch selected (a static image has no log)" : log && !log.ok ? log.error : undefined
        }
      />
    );
  else if (state.screen === "diff")
    screen = (
      <DiffScreen
        title={diffTitle}
        changes={changes}
        selected={change?.path}
        content={diffContent}
        textFocused={state.diffText}
        scroll={state.diffScroll}
        height={body}
        error={target.why ?? (diff && !diff.ok ? diff.error : undefined)}
      />
    );
  else if (state.screen === "validate" && report)
    screen = (
      <ValidateScreen
        report={report}
        openError={session.openError}
        selected={state.selected.problems ?? "0"}
        height={body}
      />
    );
  else
    screen = (
      <BrowseScreen
        height={body}
        branches={
          staticImage
            ? undefined
            : {
                rows: branchRows,
                selected: branchKey,
                height: branchHeight,
                focused: focus === "branches",
                mounts,
                staticImage,
                problems: imageError
                  ? `the branch table does not read: ${imageError}`
                  : startupProblems > 0
                    ? `the image has ${count(startupProblems, "problem")}; 4 shows them`
                    : undefined,
              }
        }
        files={{
          session,
          branch: branch ?? "",
          rows: fileList,
          marks,
          selected: file?.path,
          height: lowerHeight,
          width: filesWidth,
          focused: focus === "files",
          search: state.search,
          searchInput: state.searchInput,
          error: target.why ?? (files && !files.ok ? files.error : undefined),
        }}
        preview={{
          title: preview?.ok ? preview.value.title : "Preview",
          lines: preview ? (preview.ok ? preview.value.lines : [preview.error]) : [],
          height: lowerHeight,
          focused: focus === "preview",
          more: preview?.ok === true && preview.value.next !== undefined,
        }}
      />
    );

  return (
    <Box flexDirection="column" width={columns} height={termRows} overflow="hidden">
      <Header summary={summary} openError={session.openError ?? (summary ? null : (imageError ?? null))} />
      {screen}
      <StatusBar screen={state.screen} message={message || imageError || staleNote} />
    </Box>
  );
}
