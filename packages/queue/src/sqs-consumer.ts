/**
 * One {@link Consumer} of the SQS driver: a long-polling receive loop that keeps at most
 * `concurrency` messages in hand, a heartbeat that extends their visibility timeout (the lease)
 * while handlers run, and the outcome of each delivery written back to SQS: ack (delete), retry
 * (re-send with the next attempt number and a delay, then delete), dead letter (send to the
 * DLQ, then delete). Stopping drains like the BullMQ consumer: no new messages, wait for the
 * running ones, and a deadline after which they are abandoned to their lapsing lease.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { BackoffPolicy, Consumer, Delivery, DeliveryHandler, StopOptions } from "./queue-driver.js";
import { decideRetry } from "./retry-policy.js";
import { createBatcher, type EntryResult } from "./sqs-batcher.js";
import { deadLetterEntryOf, decodeMessage, type Envelope, sendEntryOf } from "./sqs-messages.js";
import type { PendingIdClaim, PendingIdStore } from "./sqs-pending-ids.js";
import type { ResolvedQueue } from "./sqs-queue-urls.js";

/** Settings shared by every consumer of a driver. */
export interface SqsConsumerSettings {
  client: SQSClient;
  resolve: (queue: string) => Promise<ResolvedQueue>;
  pendingIds: PendingIdStore | null;
  visibilityTimeoutSec: number;
  waitTimeSeconds: number;
  jitter: number;
  defaults: { attempts: number; backoff: BackoffPolicy };
  maxDelaySeconds: number;
  onError: (error: Error) => void;
}

/** A handler that is running now, whose lease the heartbeat keeps. */
interface Running {
  id: string;
  receiptHandle: string;
  controller: AbortController;
  /** Make the run return at once without writing an outcome. */
  abandon: () => void;
  /** When the last successful extension was requested (the lease runs at least until then + timeout). */
  extendedAt: number;
  leaseLost: boolean;
}

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** The text a dead letter keeps of what the handler threw. */
function messageOf(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  if (
    typeof thrown === "object" &&
    thrown !== null &&
    typeof (thrown as { message?: unknown }).message === "string"
  ) {
    return (thrown as { message: string }).message;
  }
  return String(thrown);
}

/** Per-entry results of an SQS batch response, in the order of the request's entries. */
function entryResults(
  ids: string[],
  failed: { Id?: string | undefined; Code?: string | undefined; Message?: string | undefined }[] | undefined,
): EntryResult[] {
  const failures = new Map((failed ?? []).map((f) => [f.Id, new Error(`${f.Code}: ${f.Message}`)]));
  return ids.map((id) => failures.get(id));
}

/** Start consuming `queue`. */
export function startSqsConsumer<T>(
  queue: string,
  handler: DeliveryHandler<T>,
  concurrency: number,
  s: SqsConsumerSettings,
): Consumer {
  const { client } = s;
  const leaseMs = s.visibilityTimeoutSec * 1000;
  // Keyed by receipt handle: after a lost lease the same message can be here twice.
  const running = new Map<string, Running>();
  // Every piece of work a drain waits for: handler runs with their outcome, hops, hand-backs.
  const busy = new Set<Promise<void>>();
  let inHand = 0;
  let stopping = false;
  let abandoning = false;
  let poll: AbortController | undefined;
  const wakers = new Set<() => void>();
  const wakeLoop = () => {
    for (const wake of [...wakers]) wake();
  };
  /** Resolve after `ms`, or earlier when a slot frees up or the consumer stops. */
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });

  let target: ResolvedQueue | undefined;
  const targetOf = async () => {
    target ??= await s.resolve(queue);
    return target;
  };

  const deletes = createBatcher<string>(10, async (handles) => {
    const { url } = await targetOf();
    const ids = handles.map((_, i) => `d${i}`);
    const out = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: handles.map((ReceiptHandle, i) => ({ Id: ids[i]!, ReceiptHandle })),
      }),
    );
    return entryResults(ids, out.Failed);
  });
  // Pending ids are scoped by the SQS queue's URL: the physical queue the messages are in.
  const releases = createBatcher<PendingIdClaim>(100, async (claims) => {
    await s.pendingIds?.release((await targetOf()).url, claims);
    return claims.map(() => undefined);
  });

  const track = (work: Promise<void>): void => {
    busy.add(work);
    void work.finally(() => busy.delete(work));
  };

  const send = async (url: string, entry: Omit<SendMessageBatchRequestEntry, "Id">) => {
    await client.send(new SendMessageCommand({ QueueUrl: url, ...entry }));
  };

  /** Release the id's claim, then delete: a crash in between leaves a message, never a stale claim. */
  const finish = async (envelope: Envelope, receiptHandle: string) => {
    if (envelope.claim !== undefined && s.pendingIds)
      await releases.add({ id: envelope.id, token: envelope.claim });
    await deletes.add(receiptHandle);
  };

  const deadLetter = async (envelope: Envelope, receiptHandle: string, reason: string) => {
    const { dlqUrl } = await targetOf();
    if (!dlqUrl)
      throw new Error(`queue ${queue} has no dead-letter queue; message ${envelope.id} stays (${reason})`);
    await send(dlqUrl, deadLetterEntryOf(envelope, reason, queue, Date.now()));
    await finish(envelope, receiptHandle);
  };

  /** Send a copy due `delayMs` from now, then delete this one. */
  const resend = async (envelope: Envelope, receiptHandle: string, delayMs: number) => {
    const { url } = await targetOf();
    await send(url, sendEntryOf(envelope, delayMs, s.maxDelaySeconds));
    await deletes.add(receiptHandle);
  };

  const writeFailure = async (envelope: Envelope, receiptHandle: string, error: unknown) => {
    const decision = decideRetry({
      error,
      attempt: envelope.attempt,
      maxAttempts: envelope.maxAttempts,
      backoff: envelope.backoff,
      jitter: s.jitter,
    });
    if (!decision.retry) return deadLetter(envelope, receiptHandle, messageOf(error));
    const next: Envelope = { ...envelope, attempt: envelope.attempt + 1, notBefore: undefined };
    if (decision.delayMs > s.maxDelaySeconds * 1000) next.notBefore = Date.now() + decision.delayMs;
    return resend(next, receiptHandle, decision.delayMs);
  };

  const abandonRun = (run: Running): void => {
    running.delete(run.receiptHandle);
    run.controller.abort(new Error(`consumer of ${queue} stopped; message ${run.id} abandoned`));
    run.abandon();
  };

  const loseLease = (run: Running, why: string): void => {
    if (running.get(run.receiptHandle) !== run) return;
    running.delete(run.receiptHandle);
    run.leaseLost = true;
    run.controller.abort(new Error(`lease lost for message ${run.id}: ${why}`));
  };

  async function runHandler(envelope: Envelope, receiptHandle: string): Promise<void> {
    const controller = new AbortController();
    let abandon: () => void = () => undefined;
    const abandoned = new Promise<"abandoned">((resolve) => {
      abandon = () => resolve("abandoned");
    });
    const run: Running = {
      id: envelope.id,
      receiptHandle,
      controller,
      abandon,
      extendedAt: Date.now(),
      leaseLost: false,
    };
    running.set(receiptHandle, run);
    if (abandoning) {
      // Fetched after the stop deadline passed: not run at all, its lease lapses.
      abandonRun(run);
      return;
    }
    const delivery: Delivery<T> = {
      id: envelope.id,
      body: JSON.parse(envelope.body) as T,
      attempt: envelope.attempt,
      maxAttempts: envelope.maxAttempts,
      signal: controller.signal,
    };
    let failure: { error: unknown } | undefined;
    try {
      const result = await Promise.race([abandoned, Promise.resolve().then(() => handler(delivery))]);
      if (result === "abandoned") return;
    } catch (error) {
      failure = { error };
    }
    // Abandoned, or the lease went to another consumer: that delivery owns the outcome now.
    if (run.leaseLost || running.get(receiptHandle) !== run) return;
    try {
      await (failure
        ? writeFailure(envelope, receiptHandle, failure.error)
        : finish(envelope, receiptHandle));
    } catch (error) {
      s.onError(
        new Error(
          `could not record the outcome of message ${envelope.id} on ${queue}; it comes back after its lease`,
          {
            cause: error,
          },
        ),
      );
    } finally {
      running.delete(receiptHandle);
    }
  }

  /** Give a message straight back (visible now) without running it. */
  const handBack = async (message: Message): Promise<void> => {
    try {
      const { url } = await targetOf();
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    } catch {
      // Its visibility timeout lapses anyway.
    }
  };

  function dispatch(message: Message): void {
    if (stopping || !message.ReceiptHandle) {
      track(handBack(message));
      return;
    }
    const receiptHandle = message.ReceiptHandle;
    const decoded = decodeMessage(message, s.defaults);
    inHand += 1;
    const work = (async () => {
      const { envelope } = decoded;
      try {
        if (!decoded.ok) await deadLetter(envelope, receiptHandle, decoded.reason);
        else if (envelope.notBefore !== undefined && envelope.notBefore > Date.now()) {
          // Longer than one SQS delay: wait another hop, with the same attempt number.
          await resend(envelope, receiptHandle, envelope.notBefore - Date.now());
        } else await runHandler(envelope, receiptHandle);
      } catch (error) {
        s.onError(
          new Error(`message ${envelope.id} on ${queue}: ${toError(error).message}`, { cause: error }),
        );
      } finally {
        inHand -= 1;
        wakeLoop();
      }
    })();
    track(work);
  }

  let failures = 0;
  async function receiveLoop(): Promise<void> {
    while (!stopping) {
      if (inHand >= concurrency) {
        await nap(60_000);
        continue;
      }
      const controller = new AbortController();
      poll = controller;
      try {
        const { url } = await targetOf();
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: Math.min(10, concurrency - inHand),
            WaitTimeSeconds: s.waitTimeSeconds,
            VisibilityTimeout: s.visibilityTimeoutSec,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
          }),
          { abortSignal: controller.signal },
        );
        failures = 0;
        for (const message of out.Messages ?? []) dispatch(message);
      } catch (error) {
        if (stopping) break;
        failures += 1;
        s.onError(new Error(`receiving from ${queue} failed (attempt ${failures})`, { cause: error }));
        await nap(Math.min(5_000, 100 * 2 ** failures));
      } finally {
        poll = undefined;
      }
    }
  }
  const looping = receiveLoop();

  // The heartbeat: every third of the visibility timeout, extend every running message's lease.
  let beating = false;
  const heartbeat = setInterval(
    () => {
      if (beating || running.size === 0) return;
      beating = true;
      void extendLeases().finally(() => {
        beating = false;
      });
    },
    Math.max(100, Math.floor(leaseMs / 3)),
  );
  heartbeat.unref();

  async function extendLeases(): Promise<void> {
    const runs = [...running.values()];
    for (let i = 0; i < runs.length; i += 10) {
      const chunk = runs.slice(i, i + 10);
      const ids = chunk.map((_, n) => `h${n}`);
      const requestedAt = Date.now();
      try {
        const { url } = await targetOf();
        const out = await client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: chunk.map((run, n) => ({
              Id: ids[n]!,
              ReceiptHandle: run.receiptHandle,
              VisibilityTimeout: s.visibilityTimeoutSec,
            })),
          }),
        );
        entryResults(ids, out.Failed).forEach((error, n) => {
          const run = chunk[n]!;
          if (error) loseLease(run, error.message);
          else run.extendedAt = requestedAt;
        });
      } catch (error) {
        s.onError(new Error(`extending leases on ${queue} failed`, { cause: error }));
        // Past its last extension plus the timeout, the message may already be someone else's.
        for (const run of chunk)
          if (Date.now() - run.extendedAt >= leaseMs) loseLease(run, toError(error).message);
      }
    }
  }

  let deadlinePassed: () => void = () => undefined;
  const deadline = new Promise<void>((resolve) => {
    deadlinePassed = resolve;
  });
  const abandonAll = (): void => {
    abandoning = true;
    for (const run of [...running.values()]) abandonRun(run);
    deadlinePassed();
  };

  const idle = async (): Promise<void> => {
    await looping;
    while (busy.size > 0) await Promise.allSettled([...busy]);
  };

  const shutdown = async (): Promise<void> => {
    stopping = true;
    poll?.abort(new Error("consumer stopping"));
    wakeLoop();
    await Promise.race([idle(), deadline]);
    abandonAll();
    clearInterval(heartbeat);
  };

  let closing: Promise<void> | undefined;
  return {
    stop(options: StopOptions = {}) {
      closing ??= shutdown();
      if (options.timeoutMs !== undefined) {
        const timer = setTimeout(abandonAll, options.timeoutMs);
        const clear = () => clearTimeout(timer);
        closing.then(clear, clear);
      }
      return closing;
    },
  };
}
