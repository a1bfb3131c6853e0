import { UsageError } from "./io.js";

export interface ApiTarget {
  url: string;
  token: string | undefined;
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the Zixly HTTP API; errors come back as {@link ApiError} with the API's code and message. */
export async function api<T = Record<string, unknown>>(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  if (!target.token)
    throw new UsageError(
      "no credentials: pass --token or set ZIXLY_API_KEY (ZIXLY_ADMIN_TOKEN for tenant create)",
    );
  let res: Response;
  try {
    res = await fetch(`${target.url.replace(/\/+$/, "")}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: "application/json",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new ApiError(
      0,
      "unreachable",
      `cannot reach ${target.url}: ${(err as Error).message} (is the receiver running? --url)`,
    );
  }
  const text = await res.text();
  const json = (text ? JSON.parse(text) : {}) as T & { error?: { code: string; message: string } };
  if (!res.ok)
    throw new ApiError(res.status, json.error?.code ?? "error", json.error?.message ?? `HTTP ${res.status}`);
  return json;
}
