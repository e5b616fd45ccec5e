// Writes the command-line reference from the tools' own --help texts, so it cannot drift from them:
// docs/cli.md below its GENERATED marker (the text above it is written by hand) and one man page per
// tool in docs/man/. `node scripts/cli-doc.mjs --check` (scripts/test.sh) fails, naming each file,
// when the committed files differ from what the current build prints. Needs `pnpm run build`.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const MARKER = "<!-- GENERATED below by scripts/cli-doc.mjs from each tool's --help: do not edit below -->";

/** Each tool: its bin name, its build and a summary for the man page's NAME line. */
const TOOLS = [
  { name: "mkdaxfs", cli: "packages/mkdaxfs/dist/cli.js", summary: "build a DAXFS image" },
  {
    name: "daxfs-inspect",
    cli: "packages/inspect/dist/cli.js",
    summary: "inspect and validate DAXFS images",
  },
  {
    name: "daxfs-compact",
    cli: "packages/compact/dist/cli.js",
    summary: "fold main of a DAXFS image into a new base",
  },
  {
    name: "daxfs-branch",
    cli: "packages/branch/dist/cli.js",
    summary: "create, switch, commit and abort branches of DAXFS mounts",
  },
  { name: "daxfs-fuse", cli: "packages/fuse-ref/dist/cli.js", summary: "serve a DAXFS image over FUSE" },
  { name: "daxfs-tui", cli: "packages/tui/dist/cli.js", summary: "browse a DAXFS image in the terminal" },
];

/** The subcommands a --help text lists under "Commands:" (each gets a section), but `help`. */
function subcommands(text) {
  const at = text.indexOf("\nCommands:\n");
  if (at < 0) return [];
  const names = [];
  for (const line of text.slice(at).split("\n").slice(2)) {
    if (line.trim() === "") break;
    const match = /^ {2}([a-z][\w-]*)/.exec(line);
    if (match && match[1] !== "help") names.push(match[1]);
  }
  return names;
}

/** What `TOOL ARGS --help` prints (stdout or stderr: mkdaxfs prints usage to stderr, as the public tool). */
function help(tool, args) {
  const result = spawnSync(process.execPath, [join(root, tool.cli), ...args, "--help"], {
    encoding: "utf8",
    // Piped, so the help wraps at commander's default 80 columns; no colours: the same everywhere.
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  if (result.status !== 0)
    throw new Error(`${tool.name} ${args.join(" ")} --help: exit ${result.status}: ${result.stderr}`);
  return `${result.stdout}${result.stderr}`.trimEnd();
}

function version(tool) {
  const result = spawnSync(process.execPath, [join(root, tool.cli), "--version"], { encoding: "utf8" });
  return result.stdout.trim();
}

function markdown() {
  const parts = [];
  for (const tool of TOOLS) {
    const text = help(tool, []);
    parts.push(`## ${tool.name}\n\n\`\`\`text\n${text}\n\`\`\``);
    for (const sub of subcommands(text))
      parts.push(`### ${tool.name} ${sub}\n\n\`\`\`text\n${help(tool, [sub])}\n\`\`\``);
  }
  return `${parts.join("\n\n")}\n`;
}

/** A man page: the same help texts in a no-fill block, so nothing is restated by hand. */
function manPage(tool) {
  const roff = (text) => text.replace(/\\/g, "\\e").replace(/^([.'])/gm, "\\&$1");
  const text = help(tool, []);
  const sections = [
    `.TH ${tool.name.toUpperCase()} 1 "" "${version(tool)}" "DAXFS toolkit"`,
    ".SH NAME",
    `${tool.name} \\- ${tool.summary}`,
    ".SH DESCRIPTION",
    ".nf",
    roff(text),
    ".fi",
  ];
  for (const sub of subcommands(text))
    sections.push(`.SS ${tool.name} ${sub}`, ".nf", roff(help(tool, [sub])), ".fi");
  sections.push(
    ".SH MESSAGES",
    `Errors are one line, "${tool.name}: WHAT: reason", and a non-zero exit status; see docs/cli.md.`,
    ".SH SEE ALSO",
    TOOLS.filter((other) => other !== tool)
      .map((other) => `${other.name}(1)`)
      .join(", "),
  );
  return `${sections.join("\n")}\n`;
}

const check = process.argv.includes("--check");
const cliDoc = join(root, "docs/cli.md");
const current = readFileSync(cliDoc, "utf8");
const at = current.indexOf(MARKER);
if (at < 0) {
  console.error(`cli-doc: ${cliDoc}: no "${MARKER}" line`);
  process.exit(1);
}
const files = new Map([[cliDoc, `${current.slice(0, at)}${MARKER}\n\n${markdown()}`]]);
for (const tool of TOOLS) files.set(join(root, "docs/man", `${tool.name}.1`), manPage(tool));

let drifted = 0;
for (const [path, content] of files) {
  let old = null;
  try {
    old = readFileSync(path, "utf8");
  } catch {}
  if (old === content) continue;
  if (check) {
    console.error(`cli-doc: ${path}: differs from the tools' --help (run node scripts/cli-doc.mjs)`);
    drifted++;
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    console.log(`cli-doc: wrote ${path}`);
  }
}
process.exit(drifted > 0 ? 1 : 0);
