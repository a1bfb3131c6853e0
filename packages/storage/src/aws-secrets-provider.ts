/**
 * The {@link SecretsProvider} on AWS Secrets Manager: one secret holding a JSON object keyed by
 * the app's variable names (as `terraform/modules/secrets` creates it), read once per TTL and
 * shared by every `get`. A rotation (a new `AWSCURRENT` version) is seen at the next read: when
 * the TTL has passed, or at once through `refresh()`.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { MissingSecretError, type SecretsProvider } from "./secrets.js";

/** Options of {@link createAwsSecretsProvider}. */
export interface AwsSecretsProviderOptions {
  /** The secret's name or ARN (`SECRETS_MANAGER_SECRET_ID`). */
  secretId: string;
  /** A ready client; otherwise one is built from `region`, `endpoint`, `credentials`. */
  client?: SecretsManagerClient;
  region?: string;
  /** Endpoint override (`AWS_ENDPOINT_URL`: LocalStack, the test stand-in). */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** How long a read serves every `get`. Default 5 minutes. */
  ttlMs?: number;
  /**
   * Least time between a read and one that `refresh()` forces (against decrypt-failure storms),
   * and between a failed read and the next. Default 1 s.
   */
  minRefreshIntervalMs?: number;
  /**
   * Receives read failures while an older value is still served (Secrets Manager unreachable
   * after a successful read). Default `console.error`. The values themselves are never passed.
   */
  onError?: (error: Error) => void;
  /** Called with the new version id when a read finds another version than the last one. */
  onRotation?: (versionId: string) => void;
  /** Clock, for tests. */
  now?: () => number;
}

interface Snapshot {
  values: Map<string, string>;
  versionId: string | undefined;
  readAt: number;
}

/** The secret's JSON object as name → string value (numbers and booleans as text). */
function parseSecret(secretString: string | undefined, secretId: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? "");
  } catch {
    throw new TypeError(`secret ${secretId} is not a JSON object`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TypeError(`secret ${secretId} is not a JSON object`);
  }
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === "string") values.set(name, value);
    else if (typeof value === "number" || typeof value === "boolean") values.set(name, String(value));
  }
  return values;
}

/**
 * Create a {@link SecretsProvider} reading one JSON secret from Secrets Manager.
 *
 * @example
 * ```ts
 * const secrets = createAwsSecretsProvider({ secretId: env.SECRETS_MANAGER_SECRET_ID, region: env.AWS_REGION });
 * const keys = await secrets.get("ZIXLY_ENCRYPTION_KEY");
 * ```
 */
export function createAwsSecretsProvider(options: AwsSecretsProviderOptions): SecretsProvider {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const minRefreshIntervalMs = options.minRefreshIntervalMs ?? 1_000;
  if (!(ttlMs >= 0 && minRefreshIntervalMs >= 0))
    throw new RangeError("createAwsSecretsProvider: negative interval");
  if (!options.secretId) throw new TypeError("createAwsSecretsProvider: secretId is required");
  const now = options.now ?? Date.now;
  const onError =
    options.onError ?? ((error: Error) => console.error("[@zixly/storage secrets]", error.message));
  const client =
    options.client ??
    new SecretsManagerClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });

  let snapshot: Snapshot | undefined;
  let reading: Promise<Snapshot> | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let failedAt = Number.NEGATIVE_INFINITY;

  /** One read at a time: concurrent callers share it. */
  const read = (): Promise<Snapshot> => {
    reading ??= (async () => {
      lastAttemptAt = now();
      try {
        const out = await client.send(new GetSecretValueCommand({ SecretId: options.secretId }));
        const next: Snapshot = {
          values: parseSecret(out.SecretString, options.secretId),
          versionId: out.VersionId,
          readAt: now(),
        };
        if (snapshot && out.VersionId && snapshot.versionId !== out.VersionId)
          options.onRotation?.(out.VersionId);
        snapshot = next;
        failedAt = Number.NEGATIVE_INFINITY;
        return next;
      } catch (error) {
        failedAt = now();
        throw error;
      } finally {
        reading = undefined;
      }
    })();
    return reading;
  };

  /** A fresh-enough snapshot; a stale one while Secrets Manager cannot be read. */
  const current = async (): Promise<Snapshot> => {
    if (snapshot && now() - snapshot.readAt < ttlMs) return snapshot;
    // After a failed read, wait a little before the next, serving the old values meanwhile.
    if (snapshot && now() - failedAt < minRefreshIntervalMs && !reading) return snapshot;
    try {
      return await read();
    } catch (error) {
      if (!snapshot) throw error;
      onError(
        new Error(`reading secret ${options.secretId} failed; serving the previous version`, {
          cause: error,
        }),
      );
      return snapshot;
    }
  };

  return {
    async get(name) {
      const value = (await current()).values.get(name);
      if (value === undefined) throw new MissingSecretError(`secret ${options.secretId} has no ${name}`);
      return value;
    },
    async refresh() {
      if (reading) {
        await reading.catch(() => undefined);
        return;
      }
      if (now() - lastAttemptAt < minRefreshIntervalMs) return;
      await read().catch((error: unknown) => {
        if (!snapshot) throw error;
        onError(new Error(`refreshing secret ${options.secretId} failed`, { cause: error }));
      });
    },
  };
}
