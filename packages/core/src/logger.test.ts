import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, redactSensitive } from "./logger.js";

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

  it("redacts nested keys, header names in any case, child bindings and error properties", () => {
    const { lines, log } = capture();
    const err = Object.assign(new Error("vendor said no"), {
      response: { headers: { Authorization: "Bearer PLANTED-7" }, body: { access_token: "PLANTED-8" } },
    });
    log.child({ apiKey: "PLANTED-9" }).error({ err, deep: { a: { b: { password: "PLANTED-10" } } } }, "boom");
    const out = lines.join("");
    expect(out).toContain("vendor said no");
    expect(out).toContain("[redacted]");
    expect(out).not.toMatch(/PLANTED/);
  });

  it("returns an object with nothing to redact unchanged (no copy), and never mutates its input", () => {
    const clean = { jobId: "j1", steps: [{ name: "a" }], at: new Date(0) };
    expect(redactSensitive(clean)).toBe(clean);
    const dirty = { user: { email: "ana@example.com" }, list: [{ secret: "s" }] };
    const redacted = redactSensitive(dirty);
    expect(redacted).toEqual({ user: { email: "[redacted]" }, list: [{ secret: "[redacted]" }] });
    expect(dirty.user.email).toBe("ana@example.com");
    expect(dirty.list[0]!.secret).toBe("s");
  });
});
