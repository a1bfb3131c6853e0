// The workflow catalogue end to end: signed deliveries from each source through the receiver,
// the queue and the worker, against the vendor sandboxes. Each test asserts what reached the
// sandboxes and what the job records (steps, related records).
import { randomUUID } from "node:crypto";
import { ASANA_SANDBOX_DEFAULTS } from "@zixly/sandboxes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CatalogueHarness, startCatalogueHarness, type Tenant } from "./support/catalogue-harness.js";

let h: CatalogueHarness;
let t: Tenant;
beforeAll(async () => {
  h = await startCatalogueHarness();
  t = await h.setupTenant();
});
afterAll(async () => {
  await h?.close();
});

type Job = Record<string, unknown> & {
  steps: { name: string; status: string }[];
  relatedRecords: { system: string; recordType: string; recordId: string; action: string }[];
};

async function onlyJob(res: { status: number; json: Record<string, unknown>; text: string }): Promise<Job> {
  expect(res.status, res.text).toBe(202);
  const jobIds = res.json.jobIds as string[];
  expect(jobIds).toHaveLength(1);
  const job = (await h.waitForJob(t.apiKey, jobIds[0]!)) as Job;
  // Every job here should complete; say why when one did not.
  if (job.status !== "COMPLETED")
    throw new Error(`job ${String(job.workflow)} ${String(job.status)}: ${JSON.stringify(job.error)}`);
  return job;
}

const stepNames = (job: Job) => job.steps.map((s) => [s.name, s.status]);
const related = (job: Job) => job.relatedRecords.map((r) => `${r.system}:${r.recordType}:${r.action}`);

describe("shopify-order-to-xero-invoice", () => {
  it("turns a paid order into one Xero contact and one invoice, and a re-delivery into none", async () => {
    const order = h.shopify.addOrder({
      email: "e2e.shopper@example.com",
      customer: { firstName: "Eda", lastName: "Shopper" },
      lineItems: [
        {
          title: "Ceramic mug",
          sku: "MUG-01",
          price: 20,
          quantity: 2,
          taxLines: [{ title: "GST", rate: 0.1 }],
        },
      ],
      shippingLines: [{ title: "Standard", price: 10 }],
    });
    const job = await onlyJob(await t.shopify("orders/paid", order));
    expect(job).toMatchObject({
      status: "COMPLETED",
      workflow: "shopify-order-to-xero-invoice",
      attempts: 1,
      result: { orderId: String(order.id), contactCreated: true, invoiceCreated: true, total: 54 },
    });
    expect(stepNames(job)).toEqual([
      ["fetch-order", "COMPLETED"],
      ["find-or-create-contact", "COMPLETED"],
      ["create-invoice", "COMPLETED"],
    ]);
    const result = job.result as { contactId: string; invoiceId: string };
    expect(job.relatedRecords).toEqual([
      { system: "shopify", recordType: "order", recordId: String(order.id), action: "read" },
      { system: "xero", recordType: "contact", recordId: result.contactId, action: "created" },
      { system: "xero", recordType: "invoice", recordId: result.invoiceId, action: "created" },
    ]);

    expect(h.shopify.count("GET", "/admin/api/:version/orders/:file")).toBe(1);
    expect(h.xero.count("PUT", "/api.xro/2.0/Contacts")).toBe(1);
    expect(h.xero.count("PUT", "/api.xro/2.0/Invoices")).toBe(1);
    const put = h.xero.requests.find((r) => r.method === "PUT" && r.path === "/api.xro/2.0/Invoices");
    expect(put?.headers["idempotency-key"]).toBe(`shopify-order-${order.id}-invoice`);
    const stored = h.xero.state.invoices.get(result.invoiceId.toLowerCase());
    expect(stored).toMatchObject({
      Type: "ACCREC",
      Status: "AUTHORISED",
      Reference: `Shopify ${order.name} (${order.id})`,
      SubTotal: 50,
      TotalTax: 4,
      Total: 54,
      Contact: { ContactID: result.contactId, EmailAddress: "e2e.shopper@example.com" },
    });
    expect(stored?.LineItems.map((l) => [l.Description, l.Quantity, l.UnitAmount, l.TaxAmount])).toEqual([
      ["Ceramic mug (MUG-01)", 2, 20, 4],
      ["Shipping: Standard", 1, 10, 0],
    ]);

    // The same order again under another event id (a second subscription to the topic): a new
    // event and job for the inbox, but Xero already has the invoice.
    const again = await onlyJob(await t.shopify("orders/paid", order));
    expect(again).toMatchObject({
      status: "COMPLETED",
      result: { invoiceId: result.invoiceId, invoiceCreated: false, contactCreated: false },
    });
    expect(h.xero.count("PUT", "/api.xro/2.0/Invoices")).toBe(1);
    expect(h.xero.count("PUT", "/api.xro/2.0/Contacts")).toBe(1);
    expect(
      [...h.xero.state.invoices.values()].filter((i) => i.Reference.includes(String(order.id))),
    ).toHaveLength(1);
  });

  it("dedupes a repeated delivery of the same event in the inbox, and ignores orders/create", async () => {
    const order = h.shopify.addOrder({ email: "dup@example.com" });
    const eventId = randomUUID();
    const first = await t.shopify("orders/paid", order, eventId);
    const repeat = await t.shopify("orders/paid", order, eventId);
    expect(first.status).toBe(202);
    expect(repeat.status).toBe(200);
    expect(repeat.json).toEqual(first.json);
    const job = await h.waitForJob(t.apiKey, (first.json.jobIds as string[])[0]!);
    expect(job).toMatchObject({ status: "COMPLETED", attempts: 1 });

    const created = await t.shopify("orders/create", order);
    expect(created.status).toBe(202);
    expect(created.json.jobIds).toEqual([]);
  });
});

describe("hubspot-deal-won-to-asana-project", () => {
  it("creates an onboarding project with the fixed tasks for a won deal and links it on the deal", async () => {
    const contact = h.hubspot.addContact({ email: "won@example.com" });
    const deal = h.hubspot.addDeal(
      {
        dealname: "Won Co",
        dealstage: "closedwon",
        closedate: "2026-11-20T00:00:00.000Z",
        asana_team_gid: ASANA_SANDBOX_DEFAULTS.teamGid,
      },
      { contactIds: [contact.id] },
    );
    const res = await t.hubspot([
      {
        subscriptionType: "deal.propertyChange",
        objectId: Number(deal.id),
        propertyName: "dealstage",
        propertyValue: "closedwon",
      },
      // Not a win: stored, no job.
      {
        subscriptionType: "deal.propertyChange",
        objectId: Number(deal.id),
        propertyName: "amount",
        propertyValue: "10",
      },
    ]);
    expect((res.json.eventIds as string[]).length).toBe(2);
    const job = await onlyJob(res);
    expect(job).toMatchObject({
      status: "COMPLETED",
      workflow: "hubspot-deal-won-to-asana-project",
      attempts: 1,
    });
    const result = job.result as { projectGid: string; projectUrl: string; taskGids: string[] };
    expect(result.taskGids).toHaveLength(5);

    const project = h.asana.state.projects.get(result.projectGid);
    expect(project).toMatchObject({
      name: `Onboarding: Won Co (HubSpot deal ${deal.id})`,
      team: { gid: ASANA_SANDBOX_DEFAULTS.teamGid },
      workspace: { gid: ASANA_SANDBOX_DEFAULTS.workspaceGid },
    });
    const tasks = h.asana.tasks.filter((task) => task.projects.some((p) => p.gid === result.projectGid));
    expect(tasks.map((task) => [task.name, task.due_on])).toEqual([
      ["Kick-off call", "2026-11-22"],
      ["Collect access and account details", "2026-11-25"],
      ["Set up the customer's workspace", "2026-11-30"],
      ["Training session", "2026-12-04"],
      ["Go-live review", "2026-12-20"],
    ]);
    expect(h.hubspot.state.deals.get(deal.id)?.properties).toMatchObject({
      asana_project_gid: result.projectGid,
      asana_project_url: result.projectUrl,
    });
    expect(related(job)).toEqual([
      "hubspot:deal:read",
      ...tasks.map(() => "asana:task:created"),
      "asana:project:created",
      "hubspot:deal:updated",
    ]);
  });

  it("instantiates the deal's Asana template and waits for Asana's job without holding the worker", async () => {
    const template = h.asana.addTemplate({
      name: "Client onboarding",
      requestedDates: ["Start"],
      taskNames: ["Welcome", "Go live"],
    });
    const deal = h.hubspot.addDeal({
      dealname: "Template Co",
      dealstage: "closedwon",
      asana_template_gid: template.gid,
    });
    const before = h.asana.count("GET", "/api/1.0/jobs/:gid");
    const job = await onlyJob(
      await t.hubspot([
        {
          subscriptionType: "deal.propertyChange",
          objectId: Number(deal.id),
          propertyName: "dealstage",
          propertyValue: "closedwon",
        },
      ]),
    );
    expect(job).toMatchObject({ status: "COMPLETED", result: { fromTemplate: template.gid } });
    expect(stepNames(job)).toEqual([
      ["fetch-deal", "COMPLETED"],
      ["read-template", "COMPLETED"],
      ["instantiate-template", "COMPLETED"],
      ["wait-for-project", "COMPLETED"],
      ["link-deal", "COMPLETED"],
    ]);
    expect(h.asana.count("GET", "/api/1.0/jobs/:gid") - before).toBe(2);
    const projectGid = (job.result as { projectGid: string }).projectGid;
    expect(
      h.asana.tasks.filter((task) => task.projects[0]?.gid === projectGid).map((task) => task.name),
    ).toEqual(["Welcome", "Go live"]);
    expect(h.hubspot.state.deals.get(deal.id)?.properties.asana_project_gid).toBe(projectGid);
  });
});

describe("asana-task-completed-to-hubspot-note", () => {
  const completed = (taskGid: string, field = "completed") => ({
    user: { gid: "1200000000000099", resource_type: "user" },
    created_at: new Date().toISOString(),
    action: "changed",
    resource: { gid: taskGid, resource_type: "task", resource_subtype: "default_task" },
    parent: null,
    change: { field, action: "changed" },
  });

  it("completing a task of a won deal's project files a note on the deal and comments on the task", async () => {
    // The link is the one hubspot-deal-won-to-asana-project writes: run it first.
    const contact = h.hubspot.addContact({ email: "chain@example.com" });
    const deal = h.hubspot.addDeal(
      { dealname: "Chain Co", dealstage: "closedwon", asana_team_gid: ASANA_SANDBOX_DEFAULTS.teamGid },
      { contactIds: [contact.id] },
    );
    const won = await onlyJob(
      await t.hubspot([
        {
          subscriptionType: "deal.propertyChange",
          objectId: Number(deal.id),
          propertyName: "dealstage",
          propertyValue: "closedwon",
        },
      ]),
    );
    const kickoffGid = (won.result as { taskGids: string[] }).taskGids[0]!;
    h.asana.completeTask(kickoffGid);

    const res = await t.asana([completed(kickoffGid), completed(kickoffGid, "name")]);
    expect((res.json.eventIds as string[]).length).toBe(2);
    const job = await onlyJob(res);
    expect(job).toMatchObject({
      status: "COMPLETED",
      workflow: "asana-task-completed-to-hubspot-note",
      attempts: 1,
    });
    expect(stepNames(job)).toEqual([
      ["fetch-task", "COMPLETED"],
      ["find-deal", "COMPLETED"],
      ["add-note", "COMPLETED"],
      ["comment-on-task", "COMPLETED"],
    ]);
    const result = job.result as { noteId: string; commentGid: string };
    expect(job).toMatchObject({ result: { taskGid: kickoffGid, dealId: deal.id } });
    expect(related(job)).toEqual([
      "asana:task:read",
      "hubspot:deal:read",
      "hubspot:note:created",
      "asana:story:created",
    ]);

    const note = h.hubspot.state.notes.get(result.noteId);
    expect(note?.properties.hs_note_body).toContain("Kick-off call");
    expect(h.hubspot.associatedIds("notes", result.noteId, "deals")).toEqual([deal.id]);
    expect(h.hubspot.associatedIds("notes", result.noteId, "contacts")).toEqual([contact.id]);
    expect(h.asana.state.stories.get(result.commentGid)).toMatchObject({ target: { gid: kickoffGid } });
  });

  it("completes as skipped for a task no deal is linked to, writing nothing", async () => {
    const project = h.asana.addProject({ name: "Unlinked", teamGid: ASANA_SANDBOX_DEFAULTS.teamGid });
    const task = h.asana.addTask({ name: "Loose end", projectGids: [project.gid], completed: true });
    const notesBefore = h.hubspot.notes.length;
    const job = await onlyJob(await t.asana([completed(task.gid)]));
    expect(job).toMatchObject({
      status: "COMPLETED",
      result: { skipped: "the task's projects are not linked to a HubSpot deal" },
    });
    expect(h.hubspot.notes.length).toBe(notesBefore);
  });
});

describe("xero-invoice-paid-to-hubspot with a deal", () => {
  it("updates the contact once, marks the won deal paid and files a payment note on both", async () => {
    const contact = h.hubspot.addContact({ email: "payer@example.com", firstname: "Pia" });
    const deal = h.hubspot.addDeal(
      { dealname: "Payer Co", dealstage: "closedwon" },
      { contactIds: [contact.id] },
    );
    const invoice = h.xero.addInvoice({
      Status: "PAID",
      Total: 320,
      CurrencyCode: "AUD",
      FullyPaidOnDate: "2026-11-19",
      Contact: { EmailAddress: "payer@example.com" },
    });
    const job = await onlyJob(await t.xero(invoice.InvoiceID));
    expect(job).toMatchObject({
      status: "COMPLETED",
      result: { invoiceId: invoice.InvoiceID, contactId: contact.id, contactCreated: false, dealId: deal.id },
    });
    expect(stepNames(job)).toEqual([
      ["fetch-invoice", "COMPLETED"],
      ["find-or-create-contact", "COMPLETED"],
      ["mark-contact-paid", "COMPLETED"],
      ["find-deal", "COMPLETED"],
      ["mark-deal-paid", "COMPLETED"],
      ["add-payment-note", "COMPLETED"],
    ]);
    expect(related(job)).toEqual([
      "xero:invoice:read",
      "hubspot:contact:updated",
      "hubspot:deal:updated",
      "hubspot:note:created",
    ]);
    expect(h.hubspot.count("PATCH", `/crm/v3/objects/contacts/${contact.id}`)).toBe(1);
    expect(h.hubspot.count("PATCH", `/crm/v3/objects/deals/${deal.id}`)).toBe(1);
    expect(h.hubspot.state.deals.get(deal.id)?.properties).toMatchObject({
      xero_invoice_number: invoice.InvoiceNumber,
      xero_invoice_status: "PAID",
      xero_amount_paid: "320",
      xero_paid_on: "2026-11-19",
    });
    const noteId = (job.result as { noteId: string }).noteId;
    expect(h.hubspot.state.notes.get(noteId)?.properties.hs_note_body).toContain("AUD 320.00 on 2026-11-19");
  });
});
