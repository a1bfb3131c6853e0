/**
 * One interface for the app's secrets (the vault's encryption keys, connectors' OAuth client
 * secrets): environment variables locally, AWS Secrets Manager in AWS mode
 * (`@zixly/storage/secrets-manager`). Callers ask by the variable's name either way.
 */

/** Reads secrets by name (the app variable's name, e.g. `ZIXLY_ENCRYPTION_KEY`). */
export interface SecretsProvider {
  /** The value of `name`. Rejects with {@link MissingSecretError} when the source has none. */
  get(name: string): Promise<string>;
  /**
   * Read the source again now (not waiting for a cache to expire): call it when a value that
   * was just used failed in a way rotation explains (a ciphertext no key decrypts, a client
   * secret the vendor refuses). See {@link withSecret}.
   */
  refresh(): Promise<void>;
}

/** The source has no secret of that name. */
export class MissingSecretError extends Error {
  override readonly name = "MissingSecretError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Secrets from environment variables (local mode). `refresh` does nothing: the environment does
 * not change while the process runs.
 */
export function createEnvSecretsProvider(env: Readonly<Record<string, string | undefined>>): SecretsProvider {
  return {
    async get(name) {
      const value = env[name];
      if (value === undefined || value === "") throw new MissingSecretError(`secret ${name} is not set`);
      return value;
    },
    async refresh() {},
  };
}

/**
 * Run `use` with the secret's current value; if it throws, refresh the provider once and, when
 * the value changed (it was rotated), run `use` again with the new one. Otherwise the first
 * error stands.
 *
 * @example
 * ```ts
 * const plain = await withSecret(secrets, "ZIXLY_ENCRYPTION_KEY", (keys) =>
 *   createSecretBox(parseEncryptionKeys(keys)).decrypt(ciphertext));
 * ```
 */
export async function withSecret<R>(
  secrets: SecretsProvider,
  name: string,
  use: (value: string) => R | Promise<R>,
): Promise<R> {
  const first = await secrets.get(name);
  try {
    return await use(first);
  } catch (error) {
    await secrets.refresh();
    const current = await secrets.get(name);
    if (current === first) throw error;
    return use(current);
  }
}
