// Colours and glyphs, degraded as the terminal asks (NO_COLOR: no colours; TERM=dumb: no colours
// and ASCII only). Components read the theme from context and never test the environment.
import { BranchState } from "@daxfs/format";
import { createContext, useContext } from "react";

export interface Theme {
  color: boolean;
  ascii: boolean;
}

export function themeFromEnv(env: NodeJS.ProcessEnv): Theme {
  const dumb = env.TERM === "dumb";
  return { color: !dumb && env.NO_COLOR === undefined, ascii: dumb };
}

export const ThemeContext = createContext<Theme>({ color: true, ascii: false });
export const useTheme = () => useContext(ThemeContext);

/** A colour name for Ink when colours are on, else undefined (the terminal's default). */
export function tint(theme: Theme, color: string): string | undefined {
  return theme.color ? color : undefined;
}

const STATE_COLORS: Record<number, string> = {
  [BranchState.ACTIVE]: "green",
  [BranchState.COMMITTED]: "blue",
  [BranchState.ABORTED]: "red",
};
export const stateColor = (state: number) => STATE_COLORS[state] ?? "yellow";

/** `[#####-----]` of `width` cells for part/whole. */
export function bar(part: number, whole: number, width: number, theme: Theme): string {
  const filled = whole <= 0 ? 0 : Math.min(width, Math.round((width * part) / whole));
  const [on, off] = theme.ascii ? ["#", "-"] : ["█", "░"];
  return `[${on.repeat(filled)}${off.repeat(width - filled)}]`;
}
