// The refreshing secret box over the real Secrets Manager SDK, against the wire-level stand-in
// (or LocalStack when LOCALSTACK_ENDPOINT is set): a key rotated in the secret is picked up.
import "./test-support/aws-sdk-guard.js";
import { randomBytes, randomUUID } from "node:crypto";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { createSecretBox, parseEncryptionKeys } from "@zixly/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsSecretsProvider } from "./aws-secrets-provider.js";
import { createRefreshingSecretBox, withManagedSecrets } from "./secret-box.js";
import {
  type SecretsManagerStandIn,
  startSecretsManagerStandIn,
} from "./test-support/secrets-manager-stand-in.js";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const region = "us-east-1";
let standIn: SecretsManagerStandIn | undefined;
let endpoint: string;
let admin: SecretsManagerClient;

beforeAll(async () => {
  if (process.env.LOCALSTACK_ENDPOINT) endpoint = process.env.LOCALSTACK_ENDPOINT;
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

const key = (id: string) => `${id}:${randomBytes(32).toString("base64")}`;

describe("secrets from Secrets Manager", () => {
  it("fills the app's missing secrets from the secret, keeping values the environment sets", async () => {
    const secretId = `zixly-test/${randomUUID()}`;
    const k1 = key("k1");
    await admin.send(
      new CreateSecretCommand({
        Name: secretId,
        SecretString: JSON.stringify({ ZIXLY_ENCRYPTION_KEY: k1, ZIXLY_ADMIN_TOKEN: "from-secret-token" }),
      }),
    );
    const secrets = createAwsSecretsProvider({ secretId, region, endpoint, credentials });
    const env = await withManagedSecrets({ ZIXLY_ADMIN_TOKEN: "from-env-token", PORT: "3000" }, secrets);
    expect(env).toMatchObject({
      ZIXLY_ENCRYPTION_KEY: k1,
      ZIXLY_ADMIN_TOKEN: "from-env-token",
      PORT: "3000",
    });
  });

  it("decrypts with a key rotated into the secret after start-up", async () => {
    const secretId = `zixly-test/${randomUUID()}`;
    const k1 = key("k1");
    await admin.send(
      new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify({ ZIXLY_ENCRYPTION_KEY: k1 }) }),
    );
    const secrets = createAwsSecretsProvider({
      secretId,
      region,
      endpoint,
      credentials,
      ttlMs: 0,
      minRefreshIntervalMs: 0,
    });
    const box = await createRefreshingSecretBox(secrets, { refreshMs: 60_000 });
    try {
      const old = box.encrypt("refresh-token");
      // Rotation: a new key in front, the old one kept.
      const k2 = key("k2");
      await admin.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          SecretString: JSON.stringify({ ZIXLY_ENCRYPTION_KEY: `${k2},${k1}` }),
        }),
      );
      const fresh = createSecretBox(parseEncryptionKeys(`${k2},${k1}`)).encrypt("new-token");
      expect(() => box.decrypt(fresh)).toThrow(/no encryption key with id "k2"/);
      await expect
        .poll(() => {
          try {
            return box.decrypt(fresh);
          } catch {
            return undefined;
          }
        })
        .toBe("new-token");
      expect(box.decrypt(old)).toBe("refresh-token");
      expect(box.encrypt("x").split(".")[1]).toBe("k2");
    } finally {
      box.close();
    }
  });
});
