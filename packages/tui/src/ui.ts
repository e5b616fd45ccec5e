// Ink, React and the app: loaded only to draw (main.ts), so that --version, --help, a usage error,
// a target that cannot be read and the not-a-terminal message start without them (~0.25 s of
// module loading; docs/cli.md "Start-up").
import type { Session } from "./session.js";

/** What draws a session on a terminal; resolves when the user quits. */
export type DrawSession = (
  session: Session,
  target: { imageFile?: string; mountPoint?: string },
  terminal: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream },
  env: NodeJS.ProcessEnv,
) => Promise<void>;

const ENTER_ALTERNATE_SCREEN = "\u001b[?1049h";
const LEAVE_ALTERNATE_SCREEN = "\u001b[?1049l";

/**
 * Loads the UI. Ink (is-in-ci) and chalk (supports-color) decide once, when they load, whether they
 * run under CI (CI, CONTINUOUS_INTEGRATION or any CI_* variable): Ink then draws nothing until exit
 * and chalk drops colours, a blank terminal for a person whose shell exports CI. On a terminal the
 * TUI is interactive whatever the environment says, so those variables are hidden while they load
 * and put back afterwards (children and the app see the real environment).
 */
export async function loadUi(): Promise<DrawSession> {
  const ciVariables = Object.entries(process.env).filter(
    ([name]) => name === "CI" || name === "CONTINUOUS_INTEGRATION" || name.startsWith("CI_"),
  );
  for (const [name] of ciVariables) delete process.env[name];
  let modules: [
    typeof import("ink"),
    typeof import("react"),
    typeof import("./components/App.js"),
    typeof import("./theme.js"),
  ];
  try {
    modules = await Promise.all([
      import("ink"),
      import("react"),
      import("./components/App.js"),
      import("./theme.js"),
    ]);
  } finally {
    for (const [name, value] of ciVariables) process.env[name] = value;
  }
  const [{ render }, { createElement }, { App }, { ThemeContext, themeFromEnv }] = modules;
  return async (session, target, terminal, env) => {
    const theme = themeFromEnv(env);
    // The alternate screen (not on a dumb terminal): on quit the terminal shows what it did before.
    const alternate = !theme.ascii;
    if (alternate) terminal.stdout.write(ENTER_ALTERNATE_SCREEN);
    try {
      const app = render(
        createElement(ThemeContext.Provider, { value: theme }, createElement(App, { session, target })),
        { stdin: terminal.stdin, stdout: terminal.stdout, exitOnCtrlC: false },
      );
      await app.waitUntilExit();
      app.cleanup();
    } finally {
      if (alternate) terminal.stdout.write(LEAVE_ALTERNATE_SCREEN);
    }
  };
}
