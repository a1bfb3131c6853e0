import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, log: createLogger({ name: "test", destination }) };
}

describe("logger redaction", () => {
  it("never writes planted secrets", () => {
    const { lines, log } = capture();
    log.info(
      {
        headers: { authorization: "Bearer PLANTED-1", "x-xero-signature": "PLANTED-2" },
        credentials: { accessToken: "PLANTED-3" },
        connection: { refreshToken: "PLANTED-4", email: "PLANTED-5@example.com" },
        secret: "PLANTED-6",
      },
      "hello",
    );
    const out = lines.join("");
    expect(out).toContain("hello");
    expect(out).not.toMatch(/PLANTED/);
  });
});
