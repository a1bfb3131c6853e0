import type { HubspotContact, XeroContact } from "@zixly/connectors";
import { describe, expect, it, vi } from "vitest";
import { loadEventFixture, testWorkflow } from "../testing/index.js";
import { deleteWorkflow } from "./delete.js";

const event = loadEventFixture(new URL("./delete.fixture.json", import.meta.url));
/** The contact id the fixture event carries. */
const contactId = "8d0a3c4e-5b6f-4a7b-9c8d-1e2f3a4b5c6d";

function fakes(email: string | null = "ana@example.com") {
  const contact: XeroContact = {
    id: contactId,
    name: "Ana Reid",
    email,
    firstName: "Ana",
    lastName: "Reid",
  };
  const upserted: HubspotContact & { created: boolean } = {
    id: "hs-1",
    email,
    properties: {},
    created: true,
  };
  return {
    xero: { getContact: vi.fn(async (_contactId: string) => contact) },
    hubspot: { upsertContactByEmail: vi.fn(async (_input: { email: string }) => upserted) },
  };
}

describe("delete", () => {
  it("copies the contact named by the fixture event to HubSpot", async () => {
    const connectors = fakes();
    const run = await testWorkflow(deleteWorkflow, { event, connectors });
    expect(run).toMatchObject({
      status: "COMPLETED",
      attempts: 1,
      result: { contactId, hubspotContactId: "hs-1", created: true },
    });
    expect(run.steps.map((s) => s.name)).toEqual(["fetch-contact", "upsert-hubspot-contact"]);
    expect(connectors.xero.getContact).toHaveBeenCalledWith(contactId);
    expect(run.relatedRecords).toEqual([
      { system: "xero", recordType: "contact", recordId: contactId, action: "read" },
      { system: "hubspot", recordType: "contact", recordId: "hs-1", action: "created" },
    ]);
  });

  it("retries a failed step without repeating the step before it", async () => {
    const connectors = fakes();
    connectors.hubspot.upsertContactByEmail.mockRejectedValueOnce(new Error("HubSpot 502"));
    const run = await testWorkflow(deleteWorkflow, { event, connectors });
    expect(run).toMatchObject({ status: "COMPLETED", attempts: 2 });
    expect(run.delays).toHaveLength(1);
    expect(connectors.xero.getContact).toHaveBeenCalledTimes(1);
    expect(connectors.hubspot.upsertContactByEmail).toHaveBeenCalledTimes(2);
  });

  it("skips a contact without an email address", async () => {
    const connectors = fakes(null);
    const run = await testWorkflow(deleteWorkflow, { event, connectors });
    expect(run).toMatchObject({ status: "COMPLETED", result: { skipped: "contact has no email address" } });
    expect(connectors.hubspot.upsertContactByEmail).not.toHaveBeenCalled();
  });

  it("fails at once on an event without the fields the input needs", async () => {
    const run = await testWorkflow(deleteWorkflow, { event: { ...event, data: {} }, connectors: fakes() });
    expect(run).toMatchObject({ status: "FAILED", attempts: 1, error: { name: "NonRetriableError" } });
  });
});
