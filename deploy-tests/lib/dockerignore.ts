// .dockerignore matching as Docker's builder does it: patterns in order, the last matching
// one wins, `!` re-includes, `**` spans directories, and excluding a directory excludes
// everything under it.

interface Rule {
  negate: boolean;
  regex: RegExp;
  pattern: string;
}

function toRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        // `**/` matches zero or more directories; a trailing `**` matches everything.
        if (pattern[i + 2] === "/") {
          re += "(?:.*/)?";
          i += 2;
        } else {
          re += ".*";
          i += 1;
        }
      } else {
        re += "[^/]*";
      }
    } else if (ch === "?") {
      re += "[^/]";
    } else {
      re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerignore(text: string): Rule[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const negate = line.startsWith("!");
      const pattern = (negate ? line.slice(1) : line)
        .trim()
        .replace(/^\.?\//, "")
        .replace(/\/+$/, "");
      return { negate, pattern, regex: toRegex(pattern) };
    });
}

/** Whether a path (relative to the context root, `/`-separated) is left out of the context. */
export function isIgnored(rules: Rule[], relativePath: string): boolean {
  const clean = relativePath.replace(/^\.?\//, "").replace(/\/+$/, "");
  const segments = clean.split("/");
  // A path is excluded when it, or any directory above it, matches.
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.regex.test(candidate))) ignored = !rule.negate;
  }
  return ignored;
}
