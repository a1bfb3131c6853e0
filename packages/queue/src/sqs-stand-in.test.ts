// The SQS stand-in's own semantics, through the real SDK: the parts of SQS's documented
// behaviour the driver relies on or was designed around (FIFO included, to show why the driver
// uses standard queues). Runs on the stand-in only: it tests the test double.
import "./test-support/sqs-sdk-guard.js";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { md5OfMessageAttributes, type SqsStandIn, startSqsStandIn } from "./test-support/sqs-stand-in.js";

let standIn: SqsStandIn;
let sqs: SQSClient;
let n = 0;

beforeAll(async () => {
  standIn = await startSqsStandIn();
  sqs = new SQSClient({
    region: standIn.region,
    endpoint: standIn.endpoint,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
});

afterAll(async () => {
  sqs?.destroy();
  await standIn?.close();
});

const createQueue = async (fifo = false, attributes: Record<string, string> = {}) => {
  n += 1;
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: fifo ? `q${n}.fifo` : `q${n}`,
      Attributes: fifo ? { FifoQueue: "true", ...attributes } : attributes,
    }),
  );
  return QueueUrl!;
};

const receive = (
  QueueUrl: string,
  extra: Partial<ConstructorParameters<typeof ReceiveMessageCommand>[0]> = {},
) => sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, ...extra }));

const counts = async (QueueUrl: string) => {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }));
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    notVisible: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
    delayed: Number(Attributes?.ApproximateNumberOfMessagesDelayed),
  };
};

describe("sqs stand-in: standard queues", () => {
  it("delays, receives, counts and deletes like SQS, with the SDK's MD5 checks passing", async () => {
    const url = await createQueue();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: "later",
        DelaySeconds: 1,
        MessageAttributes: { a: { DataType: "String", StringValue: "x" } },
      }),
    );
    expect(await counts(url)).toEqual({ visible: 0, notVisible: 0, delayed: 1 });
    const { Messages } = await receive(url, {
      WaitTimeSeconds: 5,
      VisibilityTimeout: 30,
      MessageAttributeNames: ["All"],
      MessageSystemAttributeNames: ["ApproximateReceiveCount"],
    });
    expect(Messages).toHaveLength(1);
    const [message] = Messages!;
    expect(message!.Attributes?.ApproximateReceiveCount).toBe("1");
    expect(message!.MD5OfMessageAttributes).toBe(
      md5OfMessageAttributes({ a: { DataType: "String", StringValue: "x" } }),
    );
    expect(await counts(url)).toEqual({ visible: 0, notVisible: 1, delayed: 0 });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message!.ReceiptHandle }));
    expect(await counts(url)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it("deletes only with the latest receipt handle; an older one succeeds without deleting", async () => {
    const url = await createQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "m" }));
    const first = (await receive(url, { VisibilityTimeout: 0 })).Messages![0]!;
    const second = (await receive(url, { VisibilityTimeout: 30 })).Messages![0]!;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first.ReceiptHandle }));
    expect(await counts(url)).toMatchObject({ notVisible: 1 });
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: first.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
    ).rejects.toMatchObject({ name: "ReceiptHandleIsInvalid" });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: second.ReceiptHandle }));
    expect(await counts(url)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it("refuses to change the visibility of a message that is no longer in flight", async () => {
    const url = await createQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "m" }));
    const message = (await receive(url, { VisibilityTimeout: 0 })).Messages![0]!;
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
    ).rejects.toMatchObject({ name: "MessageNotInflight" });
  });

  it("wakes a long poll when a message arrives; an abandoned long poll takes nothing", async () => {
    const url = await createQueue();
    const abandoned = new AbortController();
    const lost = sqs
      .send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }), {
        abortSignal: abandoned.signal,
      })
      .catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    abandoned.abort();
    expect(await lost).toMatchObject({ name: "AbortError" });

    const started = Date.now();
    const polling = receive(url, { WaitTimeSeconds: 10 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "wake" }));
    expect((await polling).Messages?.map((m) => m.Body)).toEqual(["wake"]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("moves a message to the dead-letter queue on the receive after maxReceiveCount", async () => {
    const dlq = await createQueue();
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["QueueArn"] }),
    );
    const url = await createQueue(false, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: 2 }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "poison" }));
    expect((await receive(url, { VisibilityTimeout: 0 })).Messages).toHaveLength(1);
    expect((await receive(url, { VisibilityTimeout: 0 })).Messages).toHaveLength(1);
    expect((await receive(url, { VisibilityTimeout: 0 })).Messages ?? []).toEqual([]);
    expect((await receive(dlq)).Messages?.map((m) => m.Body)).toEqual(["poison"]);
  });
});

describe("sqs stand-in: FIFO queues (why the driver does not use them)", () => {
  it("remembers a deduplication id for 5 minutes, even after the message was deleted", async () => {
    const url = await createQueue(true);
    const first = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: "one",
        MessageGroupId: "g",
        MessageDeduplicationId: "job-1",
      }),
    );
    const message = (await receive(url)).Messages![0]!;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    // An acked id enqueued again: accepted, and silently never delivered.
    const again = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: "two",
        MessageGroupId: "g",
        MessageDeduplicationId: "job-1",
      }),
    );
    expect(again.MessageId).toBe(first.MessageId);
    expect((await receive(url)).Messages ?? []).toEqual([]);
  });

  it("refuses per-message delays", async () => {
    const url = await createQueue(true);
    await expect(
      sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: "later",
          MessageGroupId: "g",
          MessageDeduplicationId: "d",
          DelaySeconds: 5,
        }),
      ),
    ).rejects.toThrow(/DelaySeconds/);
  });

  it("holds back a group's later messages while an earlier one is in flight", async () => {
    const url = await createQueue(true, { ContentBasedDeduplication: "true" });
    for (const [group, body] of [
      ["a", "a1"],
      ["a", "a2"],
      ["b", "b1"],
    ]) {
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: group }));
    }
    const a1 = (await receive(url, { MaxNumberOfMessages: 1 })).Messages![0]!;
    expect(a1.Body).toBe("a1");
    expect((await receive(url)).Messages?.map((m) => m.Body)).toEqual(["b1"]);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: a1.ReceiptHandle }));
    expect((await receive(url)).Messages?.map((m) => m.Body)).toEqual(["a2"]);
  });
});
