/**
 * The Secrets Manager {@link SecretsProvider}, as its own entry so that local mode never loads
 * the AWS SDK.
 *
 * @example
 * ```ts
 * import { createAwsSecretsProvider } from "@zixly/storage/secrets-manager";
 * const secrets = createAwsSecretsProvider({ secretId: process.env.SECRETS_MANAGER_SECRET_ID!, region: "eu-west-1" });
 * ```
 *
 * @module
 */
import type { SecretsProvider } from "./secrets.js";

export { type AwsSecretsProviderOptions, createAwsSecretsProvider } from "./aws-secrets-provider.js";
export type { SecretsProvider };
