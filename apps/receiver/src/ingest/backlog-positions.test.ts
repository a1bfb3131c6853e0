import { describe, expect, it } from "vitest";
import { createBacklogPositions } from "./persist-events.js";

describe("fair-queueing positions", () => {
  it("follow a growing backlog, counted or created locally", () => {
    const positions = createBacklogPositions(100);
    positions.counted("a", 10);
    expect([positions.next("a"), positions.next("a")]).toEqual([11, 12]);
    positions.counted("a", 40);
    expect(positions.next("a")).toBe(41);
  });

  it("never fall while the tenant's backlog drains, so its jobs keep arrival order", () => {
    const positions = createBacklogPositions(100);
    positions.counted("a", 100);
    expect(positions.next("a")).toBe(101);
    positions.counted("a", 30); // drained by workers meanwhile
    expect([positions.next("a"), positions.next("a")]).toEqual([101, 101]);
  });

  it("start over once the tenant has nothing queued, and are kept per tenant", () => {
    const positions = createBacklogPositions(100);
    positions.counted("a", 500);
    positions.next("a");
    positions.counted("b", 0);
    expect(positions.next("b")).toBe(1); // a light tenant overtakes the busy one
    positions.counted("a", 0);
    expect(positions.next("a")).toBe(1);
  });

  it("asks for a new count only for tenants whose count is older than the window", async () => {
    const positions = createBacklogPositions(20);
    expect(positions.stale(["a", "b"])).toEqual(["a", "b"]);
    positions.counted("a", 1);
    expect(positions.stale(["a", "b", "a"])).toEqual(["b"]);
    await new Promise((r) => setTimeout(r, 25));
    expect(positions.stale(["a"])).toEqual(["a"]);
  });
});
