import type { CliIo } from "./io.js";

/**
 * Progress for long operations (migrations, demo, bulk replay): redrawn in place on a
 * terminal, one line per step otherwise (CI logs, pipes).
 */
export function progress(io: CliIo, label: string, total: number) {
  let done = 0;
  const draw = (final = false) => {
    const width = 24;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
    if (io.interactive) process.stderr.write(`\r${label} ${bar}${final ? "\n" : ""}`);
    else if (final || done === 0) io.err(`${label} ${bar}`);
  };
  draw();
  return {
    tick(n = 1) {
      done = Math.min(total, done + n);
      draw();
    },
    finish() {
      done = total;
      draw(true);
    },
  };
}
