import type { AsanaConnector, HubspotConnector, ShopifyConnector, XeroConnector } from "@zixly/connectors";
import type { z } from "zod";

/** An event as the receiver normalised it: what triggers match on and what a job's input is made from. */
export interface WorkflowEvent<TData = unknown> {
  /** Sender kind: `xero`, `hubspot`, `shopify`, `asana`, `standard`. */
  source: string;
  /** Lower-case, dot-separated event type, e.g. `invoice.updated`. */
  type: string;
  /** The sender's event id, or a key derived from the fields that identify the event. */
  id: string;
  /** The sender-side account the event belongs to (Xero tenant id, HubSpot portal id, shop domain…). */
  accountId?: string | undefined;
  /** ISO time the sender says the event happened. */
  occurredAt?: string | undefined;
  /** The event as the sender sent it. */
  data: TData;
}

export interface WorkflowTrigger {
  source: string;
  /** Event type to match exactly, or `*` for every event of the source. */
  event: string;
  /** Further narrowing on the event (e.g. only one Shopify topic's paid orders). */
  filter?: (event: WorkflowEvent) => boolean;
}

export interface RetryPolicy {
  /** Total attempts, the first one included. */
  attempts: number;
  backoff: { type: "exponential" | "fixed"; delayMs: number };
}

export interface StepOptions {
  /** Fail the step (retryably) when it runs longer than this. */
  timeoutMs?: number;
  /**
   * Retries of this step inside one job attempt, for brief glitches (the job's own retry
   * policy still applies after these run out). Non-retriable errors are not retried.
   */
  retries?: { attempts: number; delayMs: number };
}

/** The durable-step API a workflow's `run` receives. */
export interface StepApi {
  /**
   * Runs `fn` once per job: its JSON-serialisable result is stored before the workflow goes
   * on, and a retry of the job returns the stored result instead of calling `fn` again.
   * Step names must be unique within a run.
   */
  run<T>(name: string, fn: () => Promise<T> | T, options?: StepOptions): Promise<Jsonified<T>>;
  /**
   * Waits `durationMs` without holding a worker slot: the job is parked (WAITING) and
   * re-queued to resume when the time is up.
   */
  sleep(name: string, durationMs: number): Promise<void>;
  /**
   * Waits for an external system to `POST /callbacks/:token`; the posted JSON body is the
   * result. `notify` receives the one-time callback URL (send it to the system that will call
   * back). After `timeoutMs` without a callback the step fails (not retried).
   */
  waitForCallback<T = unknown>(
    name: string,
    options: {
      timeoutMs: number;
      notify?: (callback: { url: string; token: string }) => Promise<void> | void;
    },
  ): Promise<T>;
  /**
   * Long-polls an external job: calls `check` now and then every `intervalMs` (without
   * holding a worker slot between checks) until it returns a value other than
   * `null`/`undefined`, which is the result; fails after `maxChecks` checks.
   */
  poll<T>(
    name: string,
    options: { intervalMs: number; maxChecks: number; check: () => Promise<T | null | undefined> },
  ): Promise<Jsonified<T>>;
}

/** What JSON storage turns a value into (Dates become strings, undefined properties vanish). */
export type Jsonified<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Jsonified<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

/** A record in another system a job read or changed, shown on the job. */
export interface RelatedRecordInput {
  system: string;
  recordType: string;
  recordId: string;
  action: string;
}

/** Structured logger handed to workflows (pino-compatible subset). */
export interface WorkflowLogger {
  debug?(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface JobInfo {
  id: string;
  tenantId: string;
  /** 1-based attempt number of this run. */
  attempt: number;
}

export interface RunContext<TInput, TConnectors> {
  input: TInput;
  step: StepApi;
  connectors: TConnectors;
  log: WorkflowLogger;
  job: JobInfo;
  /** Records a related record on the job (idempotent: recording the same one twice keeps one). */
  relate(record: RelatedRecordInput): Promise<void>;
}

export interface WorkflowDefinition<
  TSchema extends z.ZodType = z.ZodType,
  TResult = unknown,
  TConnectors = unknown,
> {
  id: string;
  trigger: WorkflowTrigger;
  input: TSchema;
  /** Turns the triggering event into the raw input the schema parses (default: `event.data`). */
  toInput: (event: WorkflowEvent) => unknown;
  retries: RetryPolicy;
  run(ctx: RunContext<z.output<TSchema>, TConnectors>): Promise<TResult>;
}

export interface WorkflowOptions<TSchema extends z.ZodType, TResult, TConnectors> {
  id: string;
  trigger: WorkflowTrigger;
  input: TSchema;
  toInput?: (event: WorkflowEvent) => unknown;
  retries?: Partial<RetryPolicy>;
  run(ctx: RunContext<z.output<TSchema>, TConnectors>): Promise<TResult>;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 5,
  backoff: { type: "exponential", delayMs: 2_000 },
};

const workflowIdPattern = /^[a-z0-9][a-z0-9-]{1,62}$/;

/**
 * Declares a workflow: what triggers it, the input it accepts (validated before the first
 * step), its retry policy and the code that runs it. Types flow from `input` into `run`.
 *
 * @example
 * ```ts
 * export const hello = defineWorkflow({
 *   id: "hello",
 *   trigger: { source: "standard", event: "greeting.sent" },
 *   input: z.object({ name: z.string() }),
 *   async run({ input, step }) {
 *     return step.run("greet", () => `hello ${input.name}`);
 *   },
 * });
 * ```
 */
export function defineWorkflow<TSchema extends z.ZodType, TResult, TConnectors = WorkflowConnectors>(
  options: WorkflowOptions<TSchema, TResult, TConnectors>,
): WorkflowDefinition<TSchema, TResult, TConnectors> {
  if (!workflowIdPattern.test(options.id)) {
    throw new Error(`workflow id "${options.id}" must be 2-63 lower-case letters, digits or dashes`);
  }
  const retries: RetryPolicy = {
    attempts: options.retries?.attempts ?? defaultRetryPolicy.attempts,
    backoff: options.retries?.backoff ?? defaultRetryPolicy.backoff,
  };
  if (!Number.isInteger(retries.attempts) || retries.attempts < 1) {
    throw new Error(`workflow "${options.id}": retries.attempts must be a positive integer`);
  }
  return {
    id: options.id,
    trigger: options.trigger,
    input: options.input,
    toInput: options.toInput ?? ((event) => event.data),
    retries,
    run: options.run,
  };
}

/**
 * The connectors a workflow can use, keyed by provider. The worker resolves each one lazily
 * from the tenant's stored connection, so a workflow that never touches HubSpot needs no
 * HubSpot connection.
 */
export interface WorkflowConnectors {
  xero: XeroConnector;
  hubspot: HubspotConnector;
  /** The shop the event came from (matched by shop domain), or the tenant's only shop. */
  shopify: ShopifyConnector;
  /** Acts in the Asana connection's workspace (its `externalAccountId`). */
  asana: AsanaConnector;
}
