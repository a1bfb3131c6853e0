import { createSecretBox, parseEncryptionKeys, type SecretBox } from "@zixly/core";
import type { SecretsProvider } from "./secrets.js";

/** The variables an app may take from Secrets Manager instead of its environment. */
export const MANAGED_SECRET_NAMES = [
  "ZIXLY_ENCRYPTION_KEY",
  "ZIXLY_ADMIN_TOKEN",
  "XERO_CLIENT_SECRET",
  "HUBSPOT_CLIENT_SECRET",
  "ASANA_CLIENT_SECRET",
  "SHOPIFY_CLIENT_SECRET",
] as const;

/**
 * Fills the managed secrets the environment lacks from `secrets` (Secrets Manager in AWS
 * mode), so the app's configuration validates as usual. Values set in the environment win.
 */
export async function withManagedSecrets(
  env: NodeJS.ProcessEnv,
  secrets: SecretsProvider,
): Promise<NodeJS.ProcessEnv> {
  const filled: NodeJS.ProcessEnv = { ...env };
  for (const name of MANAGED_SECRET_NAMES) {
    if (filled[name]) continue;
    try {
      filled[name] = await secrets.get(name);
    } catch {
      // Not in the secret either: the app's own validation names what is missing.
    }
  }
  return filled;
}

/**
 * A {@link SecretBox} whose keys come from `secrets` and follow rotation: re-read every
 * `refreshMs`, and at once (in the background) when a ciphertext names a key this process does
 * not know yet — the retry of that job then decrypts. Rotation adds the new key in front and
 * keeps the old ones (`new:…,old:…`), so nothing encrypted earlier becomes unreadable.
 */
export async function createRefreshingSecretBox(
  secrets: SecretsProvider,
  options: { name?: string; refreshMs?: number; onError?: (err: Error) => void } = {},
): Promise<SecretBox & { close(): void }> {
  const name = options.name ?? "ZIXLY_ENCRYPTION_KEY";
  const build = async () => createSecretBox(parseEncryptionKeys(await secrets.get(name)));
  let box = await build();
  let reloading: Promise<void> | undefined;
  const reload = (force: boolean) => {
    reloading ??= (async () => {
      if (force) await secrets.refresh();
      box = await build();
    })()
      .catch((err: unknown) => options.onError?.(err as Error))
      .finally(() => {
        reloading = undefined;
      });
    return reloading;
  };
  const timer = setInterval(() => void reload(false), options.refreshMs ?? 5 * 60_000);
  timer.unref();
  return {
    encrypt: (plaintext) => box.encrypt(plaintext),
    decrypt(ciphertext) {
      try {
        return box.decrypt(ciphertext);
      } catch (err) {
        if (/no encryption key with id/.test((err as Error).message)) void reload(true);
        throw err;
      }
    },
    close: () => clearInterval(timer),
  };
}

/**
 * AWS mode: with `SECRETS_MANAGER_SECRET_ID` set, the managed secrets come from that secret
 * (cached, refreshed on rotation) and the returned secret box follows key rotation. Without it,
 * the environment is returned unchanged and no box (the app builds one from its variables).
 */
export async function managedSecretsFromEnv(
  env: NodeJS.ProcessEnv,
): Promise<{ env: NodeJS.ProcessEnv; secretBox?: SecretBox & { close(): void } }> {
  const secretId = env.SECRETS_MANAGER_SECRET_ID;
  if (!secretId) return { env };
  const { createAwsSecretsProvider } = await import("./secrets-manager.js");
  const secrets = createAwsSecretsProvider({
    secretId,
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
    ttlMs: Number(env.SECRETS_CACHE_TTL_MS ?? 300_000),
  });
  const filled = await withManagedSecrets(env, secrets);
  return { env: filled, secretBox: await createRefreshingSecretBox(secrets) };
}
