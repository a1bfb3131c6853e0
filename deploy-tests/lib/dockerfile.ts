// A line-based Dockerfile reader: enough to check stages, COPY sources and the runtime
// stage's USER, EXPOSE, HEALTHCHECK and CMD (no variable expansion, no heredocs).

export interface Instruction {
  keyword: string;
  /** The arguments, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  /** `FROM <image>`. */
  image: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { stages: Stage[]; instructions: Instruction[] } {
  const instructions: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let pending: { parts: string[]; line: number } | undefined;
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (pending === undefined && (trimmed === "" || trimmed.startsWith("#"))) return;
    if (pending !== undefined && trimmed.startsWith("#")) return; // comments inside a continuation
    const continues = trimmed.endsWith("\\");
    const content = continues ? trimmed.slice(0, -1) : trimmed;
    if (pending === undefined) pending = { parts: [content], line: index + 1 };
    else pending.parts.push(content);
    if (!continues) {
      const joined = pending.parts.join(" ").replace(/\s+/g, " ").trim();
      const space = joined.indexOf(" ");
      instructions.push({
        keyword: (space < 0 ? joined : joined.slice(0, space)).toUpperCase(),
        args: space < 0 ? "" : joined.slice(space + 1),
        line: pending.line,
      });
      pending = undefined;
    }
  });
  if (pending) throw new Error("Dockerfile ends inside a line continuation");

  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!match) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ image: match[1]!, name: match[2]?.toLowerCase(), instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(ins);
    } else if (ins.keyword !== "ARG") {
      throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
    }
  }
  return { stages, instructions };
}

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
  line: number;
}

/** COPY (and ADD) instructions of a stage, flags split off, JSON form understood. */
export function copiesOf(stage: Stage): Copy[] {
  return stage.instructions
    .filter((ins) => ins.keyword === "COPY" || ins.keyword === "ADD")
    .map((ins) => {
      let rest = ins.args;
      let from: string | undefined;
      for (;;) {
        const flag = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest);
        if (!flag) break;
        if (flag[1] === "from") from = flag[2];
        rest = rest.slice(flag[0].length);
      }
      const words = rest.startsWith("[") ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
      return { from, sources: words.slice(0, -1), dest: words.at(-1)!, line: ins.line };
    });
}

/** Arguments of an exec-form (JSON array) instruction, or the shell string as one item. */
export function execForm(args: string): string[] {
  const trimmed = args.trim();
  return trimmed.startsWith("[") ? (JSON.parse(trimmed) as string[]) : [trimmed];
}
