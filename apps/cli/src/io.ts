/** Where the CLI writes; tests pass their own to capture output. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** True when stderr is a terminal: progress is drawn in place, else printed as lines. */
  interactive: boolean;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  interactive: Boolean(process.stderr.isTTY),
};

/** An error that means "you called me wrong": exit code 2 and the usage hint. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Exit codes (sysexits-style where one fits). */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78 } as const;
