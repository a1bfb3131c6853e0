import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { guardConnectors, loadEventFixture } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "zixly-fixture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fixture(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("loadEventFixture", () => {
  it("reads a normalised event", () => {
    const event = {
      source: "standard",
      type: "order.approved",
      id: "msg_1",
      data: { type: "Order.Approved" },
    };
    expect(loadEventFixture(fixture("ok.json", JSON.stringify(event)))).toEqual(event);
  });

  it("names what is wrong with a fixture that is not a WorkflowEvent", () => {
    expect(() => loadEventFixture(fixture("bad.json", "{"))).toThrow(/is not valid JSON/);
    expect(() =>
      loadEventFixture(fixture("shape.json", JSON.stringify({ source: "xero", type: "Invoice.Updated" }))),
    ).toThrow(/"id" must be a non-empty string; "data" is missing; "type" must be lower-case/);
  });
});

describe("guardConnectors", () => {
  it("passes fakes through and fails loudly on anything not faked", () => {
    const getInvoice = async () => ({ id: "inv-1" });
    const connectors = guardConnectors<{
      xero: { getInvoice(): Promise<{ id: string }>; getContact(): void };
    }>({
      xero: { getInvoice },
    });
    expect(connectors.xero.getInvoice).toBe(getInvoice);
    expect(() => connectors.xero.getContact()).toThrow(
      expect.objectContaining({
        name: "NonRetriableError",
        message: expect.stringContaining("connectors.xero.getContact"),
      }),
    );
    const untyped = connectors as unknown as Record<string, Record<string, () => void>>;
    expect(() => untyped.hubspot?.createContact?.()).toThrow(/connectors\.hubspot\.createContact was called/);
    // Probes such as promise detection must not trip the guard.
    expect((connectors as unknown as { then?: unknown }).then).toBeUndefined();
  });
});
