// @daxfs/tui: the daxfs-tui command, also callable in-process (tests) and its App for Ink.
export { App, type AppProps } from "./components/App.js";
export { EXIT_OK, EXIT_USAGE, main, type TuiIo } from "./main.js";
export { Session } from "./session.js";
export { type Theme, ThemeContext, themeFromEnv } from "./theme.js";
