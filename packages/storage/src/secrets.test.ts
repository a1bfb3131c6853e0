import { describe, expect, it } from "vitest";
import { createEnvSecretsProvider, MissingSecretError, type SecretsProvider, withSecret } from "./secrets.js";

describe("env secrets provider", () => {
  it("reads variables and refuses missing or empty ones", async () => {
    const secrets = createEnvSecretsProvider({ A: "1", EMPTY: "" });
    expect(await secrets.get("A")).toBe("1");
    await expect(secrets.get("EMPTY")).rejects.toBeInstanceOf(MissingSecretError);
    await expect(secrets.get("NOPE")).rejects.toBeInstanceOf(MissingSecretError);
    await expect(secrets.refresh()).resolves.toBeUndefined();
  });
});

describe("withSecret", () => {
  function rotating(values: string[]): SecretsProvider & { refreshes: number } {
    let index = 0;
    const provider = {
      refreshes: 0,
      async get() {
        return values[index]!;
      },
      async refresh() {
        provider.refreshes += 1;
        index = Math.min(index + 1, values.length - 1);
      },
    };
    return provider;
  }

  it("retries once with the rotated value when the first use fails", async () => {
    const secrets = rotating(["old-key", "new-key"]);
    const used: string[] = [];
    const result = await withSecret(secrets, "K", (key) => {
      used.push(key);
      if (key === "old-key") throw new Error("cannot decrypt");
      return "plain";
    });
    expect(result).toBe("plain");
    expect(used).toEqual(["old-key", "new-key"]);
  });

  it("keeps the first error when the value did not change", async () => {
    const secrets = rotating(["same"]);
    await expect(
      withSecret(secrets, "K", () => {
        throw new Error("really broken");
      }),
    ).rejects.toThrow("really broken");
    expect(secrets.refreshes).toBe(1);
  });
});
