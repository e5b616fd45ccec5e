// --exclude patterns (docs/mkdaxfs.md): `*` and `?` stay within one path component, `**` crosses
// them, `[...]` is a character class. A pattern without '/' matches a name at any depth (like
// tar/rsync); one with '/' matches the whole path relative to the source root.

function globToRegExpSource(pattern: string): string {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        // "**/" also matches zero directories.
        if (pattern[i + 2] === "/") {
          source += "(?:.*/)?";
          i += 2;
        } else {
          source += ".*";
          i++;
        }
      } else {
        source += "[^/]*";
      }
    } else if (c === "?") {
      source += "[^/]";
    } else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) {
        source += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, close);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else {
      source += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
    }
  }
  return source;
}

/** Returns a test for paths relative to the source root ("dir/file", no leading slash). */
export function compileGlob(pattern: string): (relativePath: string) => boolean {
  const anchored = pattern.includes("/");
  const trimmed = pattern.replace(/^\/+/, "").replace(/\/+$/, "");
  const regex = new RegExp(`^${globToRegExpSource(trimmed)}$`);
  if (anchored) return (relativePath) => regex.test(relativePath);
  return (relativePath) => regex.test(relativePath.slice(relativePath.lastIndexOf("/") + 1));
}
