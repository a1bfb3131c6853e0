import { describe, expect, it } from "vitest";
import { isResultRef, storeIfLarge } from "./offload.js";
import { RESULT_NAME, type ResultStore } from "./result-store.js";

function memoryStore(): ResultStore & { objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  return {
    objects,
    async put(tenantId, jobId, name, body, contentType) {
      const key = `${tenantId}/2025/01/${jobId}/${name}`;
      const bytes = Buffer.from(body);
      objects.set(key, bytes);
      return { key, size: bytes.length, contentType };
    },
    async signedUrl() {
      return "unused";
    },
    async get() {
      return undefined;
    },
  };
}

describe("storeIfLarge", () => {
  it("keeps a value inline up to the limit", async () => {
    const store = memoryStore();
    const value = { ok: "x".repeat(10) };
    const kept = await storeIfLarge({
      store,
      tenantId: "t",
      jobId: "j",
      name: RESULT_NAME,
      value,
      limitBytes: 100,
    });
    expect(kept).toBe(value);
    expect(store.objects.size).toBe(0);
  });

  it("writes a larger value to the store and returns a reference to keep instead", async () => {
    const store = memoryStore();
    const value = { big: "x".repeat(200) };
    const kept = await storeIfLarge({
      store,
      tenantId: "t",
      jobId: "j",
      name: RESULT_NAME,
      value,
      limitBytes: 100,
    });
    expect(isResultRef(kept)).toBe(true);
    expect(kept).toEqual({
      $ref: "result-store",
      key: "t/2025/01/j/result.json",
      size: JSON.stringify(value).length,
      contentType: "application/json",
    });
    expect(JSON.parse(store.objects.get("t/2025/01/j/result.json")!.toString())).toEqual(value);
  });

  it("tells references from workflow values", () => {
    expect(isResultRef({ $ref: "result-store", key: "k", size: 1, contentType: "x" })).toBe(true);
    expect(isResultRef({ key: "k", size: 1 })).toBe(false);
    expect(isResultRef(null)).toBe(false);
  });
});
