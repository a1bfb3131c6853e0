// The Secrets Manager provider through the real SDK, against the wire-level stand-in
// (test-support/secrets-manager-stand-in.ts), or LocalStack when LOCALSTACK_ENDPOINT is set.
import "./test-support/aws-sdk-guard.js";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsSecretsProviderOptions, createAwsSecretsProvider } from "./aws-secrets-provider.js";
import { MissingSecretError, withSecret } from "./secrets.js";
import {
  type SecretsManagerStandIn,
  startSecretsManagerStandIn,
} from "./test-support/secrets-manager-stand-in.js";

const LOCALSTACK = process.env.LOCALSTACK_ENDPOINT;
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const region = process.env.AWS_REGION ?? "us-east-1";

let standIn: SecretsManagerStandIn | undefined;
let endpoint: string;
let admin: SecretsManagerClient;

beforeAll(async () => {
  if (LOCALSTACK) endpoint = LOCALSTACK;
  else {
    standIn = await startSecretsManagerStandIn(region);
    endpoint = standIn.endpoint;
  }
  admin = new SecretsManagerClient({ region, endpoint, credentials });
});

afterAll(async () => {
  admin?.destroy();
  await standIn?.close();
});

async function newSecret(values: Record<string, unknown>): Promise<string> {
  const name = `zixly-test/${randomUUID()}`;
  await admin.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(values) }));
  return name;
}

const rotate = (secretId: string, values: Record<string, unknown>) =>
  admin.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(values) }));

const provider = (secretId: string, options: Partial<AwsSecretsProviderOptions> = {}) =>
  createAwsSecretsProvider({ secretId, region, endpoint, credentials, ...options });

describe(`aws secrets provider (${LOCALSTACK ? "LocalStack" : "stand-in"})`, () => {
  it("reads one JSON secret by the app's variable names", async () => {
    const secretId = await newSecret({
      ZIXLY_ENCRYPTION_KEY: "k1:abc",
      XERO_CLIENT_SECRET: "xs",
      PORT: 3000,
    });
    const secrets = provider(secretId);
    expect(await secrets.get("ZIXLY_ENCRYPTION_KEY")).toBe("k1:abc");
    expect(await secrets.get("XERO_CLIENT_SECRET")).toBe("xs");
    expect(await secrets.get("PORT")).toBe("3000");
    await expect(secrets.get("HUBSPOT_CLIENT_SECRET")).rejects.toBeInstanceOf(MissingSecretError);
  });

  it.runIf(!LOCALSTACK)(
    "serves every get within the TTL from one read, concurrent ones included",
    async () => {
      const secretId = await newSecret({ A: "1", B: "2" });
      const secrets = provider(secretId, { ttlMs: 60_000 });
      const before = standIn!.reads();
      const values = await Promise.all([secrets.get("A"), secrets.get("B"), secrets.get("A")]);
      expect(values).toEqual(["1", "2", "1"]);
      await secrets.get("B");
      expect(standIn!.reads() - before).toBe(1);
    },
  );

  it("picks up a rotation once the TTL has passed, and tells onRotation", async () => {
    const secretId = await newSecret({ ZIXLY_ENCRYPTION_KEY: "k1:old" });
    const rotations: string[] = [];
    const secrets = provider(secretId, { ttlMs: 400, onRotation: (v) => rotations.push(v) });
    expect(await secrets.get("ZIXLY_ENCRYPTION_KEY")).toBe("k1:old");
    const { VersionId } = await rotate(secretId, { ZIXLY_ENCRYPTION_KEY: "k2:new,k1:old" });
    // Within the TTL the cached value stands.
    expect(await secrets.get("ZIXLY_ENCRYPTION_KEY")).toBe("k1:old");
    await sleep(500);
    expect(await secrets.get("ZIXLY_ENCRYPTION_KEY")).toBe("k2:new,k1:old");
    expect(rotations).toEqual([VersionId]);
  });

  it("refresh() picks up a rotation at once: withSecret retries a failed decrypt with the new key", async () => {
    const secretId = await newSecret({ ZIXLY_ENCRYPTION_KEY: "k1" });
    const secrets = provider(secretId, { ttlMs: 60_000, minRefreshIntervalMs: 0 });
    expect(await secrets.get("ZIXLY_ENCRYPTION_KEY")).toBe("k1");
    await rotate(secretId, { ZIXLY_ENCRYPTION_KEY: "k2" });
    // A ciphertext written by a process that already has k2.
    const decrypt = (key: string) => {
      if (key !== "k2") throw new Error("no key decrypts this");
      return "plain";
    };
    expect(await withSecret(secrets, "ZIXLY_ENCRYPTION_KEY", decrypt)).toBe("plain");
  });

  it.runIf(!LOCALSTACK)("keeps serving the last value while Secrets Manager cannot be read", async () => {
    const secretId = await newSecret({ A: "1" });
    const errors: Error[] = [];
    const secrets = provider(secretId, {
      ttlMs: 100,
      minRefreshIntervalMs: 0,
      onError: (e) => errors.push(e),
    });
    expect(await secrets.get("A")).toBe("1");
    await sleep(150);
    standIn!.failing(true);
    try {
      expect(await secrets.get("A")).toBe("1");
    } finally {
      standIn!.failing(false);
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).not.toContain('"1"');
  });

  it("refuses a secret that is not a JSON object, and an unknown secret", async () => {
    const name = `zixly-test/${randomUUID()}`;
    await admin.send(new CreateSecretCommand({ Name: name, SecretString: "plain text" }));
    await expect(provider(name).get("A")).rejects.toThrow(/not a JSON object/);
    await expect(provider(`zixly-test/${randomUUID()}`).get("A")).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });
});
