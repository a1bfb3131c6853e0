import { describe, expect, it } from "vitest";
import { loadReceiverEnv } from "./env.js";

const valid = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/zixly",
  ZIXLY_ADMIN_TOKEN: "0123456789abcdef0123",
  ZIXLY_ENCRYPTION_KEY: "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
};

describe("receiver configuration", () => {
  it("applies defaults", () => {
    expect(loadReceiverEnv(valid)).toMatchObject({
      PORT: 3000,
      QUEUE_DRIVER: "bullmq",
      WEBHOOK_MAX_BODY_BYTES: 1048576,
      // Above AWS ALB's 60 s idle timeout: the balancer closes idle connections, not the receiver.
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 65_000,
    });
  });

  it("names every missing or bad variable in one error", () => {
    const run = () => loadReceiverEnv({ PORT: "http", ZIXLY_ADMIN_TOKEN: "short" });
    expect(run).toThrow(/DATABASE_URL: is required/);
    expect(run).toThrow(/ZIXLY_ENCRYPTION_KEY: is required/);
    expect(run).toThrow(/PORT:/);
    expect(run).toThrow(/ZIXLY_ADMIN_TOKEN: must be at least 16/);
  });
});
