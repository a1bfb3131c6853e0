/**
 * A wire-level **stand-in** for AWS Secrets Manager, for tests where LocalStack cannot run: an
 * HTTP server speaking the AWS JSON 1.1 protocol (`X-Amz-Target: secretsmanager.<Operation>`)
 * the real `@aws-sdk/client-secrets-manager` uses, for CreateSecret, GetSecretValue (by
 * `VersionId` or `VersionStage`, default `AWSCURRENT`) and PutSecretValue (the new version
 * becomes `AWSCURRENT`, the old one `AWSPREVIOUS`, as a rotation's final step does). It does not
 * verify signatures, encrypt, rotate by itself (no Lambda), or implement any other operation.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A running stand-in. */
export interface SecretsManagerStandIn {
  endpoint: string;
  region: string;
  /** GetSecretValue requests served so far. */
  reads(): number;
  /** Make the next requests fail with HTTP 500 until called with `false`. */
  failing(on: boolean): void;
  close(): Promise<void>;
}

interface Version {
  id: string;
  value: string;
  stages: Set<string>;
  createdAt: number;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Start a stand-in on 127.0.0.1. */
export async function startSecretsManagerStandIn(region = "us-east-1"): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, { arn: string; name: string; versions: Version[] }>();
  let reads = 0;
  let failing = false;

  const find = (secretId: unknown) => {
    const secret = [...secrets.values()].find((s) => s.name === secretId || s.arn === secretId);
    if (!secret)
      throw new ApiError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
    return secret;
  };
  const addVersion = (secret: { versions: Version[] }, value: unknown, token: unknown): Version => {
    if (typeof value !== "string")
      throw new ApiError("InvalidParameterException", "SecretString is required.");
    for (const v of secret.versions) {
      v.stages.delete("AWSPREVIOUS");
      if (v.stages.delete("AWSCURRENT")) v.stages.add("AWSPREVIOUS");
    }
    const version: Version = {
      id: typeof token === "string" ? token : randomUUID(),
      value,
      stages: new Set(["AWSCURRENT"]),
      createdAt: Date.now(),
    };
    secret.versions.push(version);
    return version;
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    CreateSecret(input) {
      const name = String(input.Name ?? "");
      if (!name) throw new ApiError("InvalidParameterException", "Name is required.");
      if (secrets.has(name))
        throw new ApiError("ResourceExistsException", `The secret ${name} already exists.`);
      const secret = {
        arn: `arn:aws:secretsmanager:${region}:000000000000:secret:${name}-${randomUUID().slice(0, 6)}`,
        name,
        versions: [],
      };
      secrets.set(name, secret);
      const version = addVersion(secret, input.SecretString, input.ClientRequestToken);
      return { ARN: secret.arn, Name: name, VersionId: version.id };
    },
    GetSecretValue(input) {
      reads += 1;
      const secret = find(input.SecretId);
      const version =
        typeof input.VersionId === "string"
          ? secret.versions.find((v) => v.id === input.VersionId)
          : secret.versions.find((v) =>
              v.stages.has(typeof input.VersionStage === "string" ? input.VersionStage : "AWSCURRENT"),
            );
      if (!version)
        throw new ApiError(
          "ResourceNotFoundException",
          "Secrets Manager can't find the specified secret value.",
        );
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        SecretString: version.value,
        VersionStages: [...version.stages],
        CreatedDate: version.createdAt / 1000,
      };
    },
    PutSecretValue(input) {
      const secret = find(input.SecretId);
      const version = addVersion(secret, input.SecretString, input.ClientRequestToken);
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        VersionStages: [...version.stages],
      };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, {
        "Content-Type": "application/x-amz-json-1.1",
        "x-amzn-RequestId": randomUUID(),
      });
      res.end(JSON.stringify(payload));
    };
    try {
      if (failing) throw new ApiError("InternalServiceError", "stand-in told to fail", 500);
      const [service, operation = ""] = String(req.headers["x-amz-target"] ?? "").split(".");
      if (service !== "secretsmanager" || !operations[operation]) {
        throw new ApiError("InvalidAction", `unsupported target ${String(req.headers["x-amz-target"])}`);
      }
      if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) {
        throw new ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", 403);
      }
      reply(
        200,
        operations[operation](
          JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>,
        ),
      );
    } catch (error) {
      if (error instanceof ApiError) reply(error.status, { __type: error.type, Message: error.message });
      else reply(500, { __type: "InternalServiceError", Message: String(error) });
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region,
    reads: () => reads,
    failing(on) {
      failing = on;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
