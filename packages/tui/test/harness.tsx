// Renders the App with ink-testing-library on a real image file and presses keys, waiting for
// Ink to draw after each; frames are compared as text.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileImage } from "@daxfs/core";
import { render } from "ink-testing-library";
import { App } from "../src/components/App.js";
import { Session } from "../src/session.js";
import { type Theme, ThemeContext } from "../src/theme.js";

export const KEY = {
  up: "\u001B[A",
  down: "\u001B[B",
  right: "\u001B[C",
  left: "\u001B[D",
  enter: "\r",
  tab: "\t",
  escape: "\u001B",
  backspace: "\u007F",
  pageDown: "\u001B[6~",
  pageUp: "\u001B[5~",
} as const;

const tick = () => new Promise((resolve) => setTimeout(resolve, 30));

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "daxfs-tui-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function renderApp(
  imagePath: string,
  options: {
    pollMs?: number;
    theme?: Theme;
    columns?: number;
    rows?: number;
    hide?: string;
    backing?: string;
  } = {},
) {
  const backing = options.backing === undefined ? undefined : FileImage.open(options.backing);
  const session = Session.open(FileImage.open(imagePath), backing ? { backing } : {});
  const theme = options.theme ?? { color: false, ascii: true };
  const ui = render(
    <ThemeContext.Provider value={theme}>
      <App
        session={session}
        pollMs={options.pollMs ?? 0}
        size={{ columns: options.columns ?? 80, rows: options.rows ?? 24 }}
      />
    </ThemeContext.Provider>,
  );
  await tick();
  /** The last frame, trailing spaces and empty lines dropped, `hide` (a temp dir) shown as <tmp>. */
  const frame = () =>
    (ui.lastFrame() ?? "")
      .split("\n")
      .map((line) => line.trimEnd())
      .join("\n")
      .replace(/\n+$/, "")
      .replaceAll(options.hide ?? "\u0000", "<tmp>");
  return {
    session,
    frame,
    async press(...keys: string[]) {
      for (const key of keys) {
        ui.stdin.write(key);
        await tick();
      }
    },
    /** Resolves with the frame once it contains `text`; fails after `timeoutMs`. */
    async waitFor(text: string, timeoutMs = 5000): Promise<string> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const now = frame();
        if (now.includes(text)) return now;
        if (Date.now() > until) throw new Error(`the frame never showed ${JSON.stringify(text)}:\n${now}`);
        await tick();
      }
    },
    close() {
      ui.unmount();
      session.close();
      backing?.close();
    },
  };
}
