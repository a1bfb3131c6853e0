#!/usr/bin/env node
// Scaffolds a workflow: `npm run new:workflow -- <name> [--source standard] [--event <name>.requested]`.
// Writes <name>.ts (the definition), <name>.fixture.json (a sample normalised event) and
// <name>.test.ts (a test on the test engine that passes as generated) into the catalogue, and
// registers the workflow in the catalogue's index.ts. Plain Node, no dependencies.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const workflowsSrc = join(root, "packages", "workflows", "src");
const defaultDir = join(workflowsSrc, "catalogue");

const usage = `Usage: npm run new:workflow -- <name> [options]

  <name>             kebab-case workflow name, also its id (e.g. sync-xero-contact)

Options:
  --source <source>  sender kind the trigger matches: xero, hubspot, shopify, asana, standard (default standard)
  --event <type>     event type the trigger matches, lower-case and dot-separated (default <name>.requested)
  --dir <dir>        where to write (default packages/workflows/src/catalogue); an index.ts there is updated
  -h, --help         show this help`;

class UsageError extends Error {}

/** Per source: how a sample event looks and how the generated `toInput` reads the record id. */
const sources = {
  standard: {
    recordId: "8d0a3c4e-5b6f-4a7b-9c8d-1e2f3a4b5c6d",
    toInput: [
      "// A Standard Webhooks body is `{ type, timestamp, data }`; the sender's own fields are in `data`.",
      "toInput: (event) => {",
      "  const body = event.data as { data?: { contactId?: unknown } };",
      "  return { contactId: body.data?.contactId };",
      "},",
    ],
    event: (type, recordId) => ({
      source: "standard",
      type,
      id: "msg_2mXWkp4Z9f8bTq7R",
      occurredAt: "2026-01-01T09:00:00.000Z",
      data: { type, timestamp: "2026-01-01T09:00:00.000Z", data: { contactId: recordId } },
    }),
  },
  xero: {
    recordId: "8d0a3c4e-5b6f-4a7b-9c8d-1e2f3a4b5c6d",
    toInput: [
      "// Xero's event names the record that changed (`resourceId`); steps fetch the record itself.",
      "toInput: (event) => {",
      "  const data = event.data as { resourceId?: unknown };",
      "  return { contactId: data.resourceId };",
      "},",
    ],
    event: (type, recordId) => {
      const [category = "contact", verb = "updated"] = type.split(".");
      const verbs = { created: "CREATE", updated: "UPDATE", deleted: "DELETE" };
      return {
        source: "xero",
        type,
        id: "5b0c1e8f6a2d4c7e9f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e",
        accountId: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        occurredAt: "2026-01-01T09:00:00.000Z",
        data: {
          resourceUrl: `https://api.xero.com/api.xro/2.0/Contacts/${recordId}`,
          resourceId: recordId,
          eventDateUtc: "2026-01-01T09:00:00.000",
          eventType: verbs[verb] ?? verb.toUpperCase(),
          eventCategory: category.toUpperCase(),
          tenantId: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
          tenantType: "ORGANISATION",
        },
      };
    },
  },
  hubspot: {
    recordId: "1234",
    toInput: [
      "// TODO: map HubSpot's fields. A notification names its object by `objectId` (a number).",
      "toInput: (event) => {",
      "  const data = event.data as { objectId?: unknown };",
      "  return { contactId: data.objectId === undefined ? undefined : String(data.objectId) };",
      "},",
    ],
    event: (type, recordId) => ({
      source: "hubspot",
      type,
      id: "9f2e4c6a8b0d1e3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f",
      accountId: "62515",
      occurredAt: "2026-01-01T09:00:00.000Z",
      data: {
        eventId: 100,
        subscriptionId: 200,
        portalId: 62515,
        appId: 300,
        occurredAt: 1767258000000,
        subscriptionType: type,
        attemptNumber: 0,
        objectId: Number(recordId),
        changeSource: "CRM",
      },
    }),
  },
  shopify: {
    recordId: "450789469",
    toInput: [
      "// TODO: map Shopify's fields. The body is the resource itself, e.g. an order with its `id`.",
      "toInput: (event) => {",
      "  const data = event.data as { id?: unknown };",
      "  return { contactId: data.id === undefined ? undefined : String(data.id) };",
      "},",
    ],
    event: (type, recordId) => ({
      source: "shopify",
      type,
      id: `${type}:6f3c2a1e-8b7d-4c5e-9a0f-1b2c3d4e5f60`,
      accountId: "example.myshopify.com",
      occurredAt: "2026-01-01T09:00:00.000Z",
      data: { id: Number(recordId), email: "ana@example.com", currency: "NZD", total_price: "115.00" },
    }),
  },
  asana: {
    recordId: "1204567890123456",
    toInput: [
      "// TODO: map Asana's fields. An event names its resource by `resource.gid`.",
      "toInput: (event) => {",
      "  const data = event.data as { resource?: { gid?: unknown } };",
      "  return { contactId: data.resource?.gid };",
      "},",
    ],
    event: (type, recordId) => {
      const [resourceType = "task", action = "changed"] = type.split(".");
      return {
        source: "asana",
        type,
        id: "3c5e7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c",
        occurredAt: "2026-01-01T09:00:00.000Z",
        data: {
          user: { gid: "1200000000000001", resource_type: "user" },
          created_at: "2026-01-01T09:00:00.000Z",
          action,
          resource: { gid: recordId, resource_type: resourceType },
          parent: null,
          change: { field: "name", action: "changed" },
        },
      };
    },
  },
};

const reserved = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally " +
    "for function if import in instanceof new null return super switch this throw true try typeof var void " +
    "while with yield let static implements interface package private protected public await"
  ).split(" "),
);

function parseArgs(argv) {
  const options = { name: undefined, source: "standard", event: undefined, dir: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      options.help = true;
      continue;
    }
    const flag = /^--(source|event|dir)(?:=(.*))?$/.exec(arg);
    if (flag) {
      const value = flag[2] ?? argv[++i];
      if (value === undefined || value === "") throw new UsageError(`--${flag[1]} needs a value`);
      options[flag[1]] = value;
      continue;
    }
    if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    if (options.name !== undefined)
      throw new UsageError(`one name only (got "${options.name}" and "${arg}")`);
    options.name = arg;
  }
  return options;
}

function validate(options) {
  const { name } = options;
  if (!name) throw new UsageError("a workflow name is required");
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(name)) {
    throw new UsageError(
      `"${name}" is not kebab-case: lower-case letters and digits in words joined by single dashes, starting with a letter`,
    );
  }
  if (name.length < 2 || name.length > 63) throw new UsageError(`"${name}" must be 2 to 63 characters long`);
  if (name === "index") throw new UsageError(`"index" is taken by the catalogue's index.ts`);
  if (!Object.hasOwn(sources, options.source)) {
    throw new UsageError(
      `unknown --source "${options.source}"; use one of ${Object.keys(sources).join(", ")}`,
    );
  }
  options.event ??= `${name}.requested`;
  if (options.event !== "*" && !/^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/.test(options.event)) {
    throw new UsageError(
      `--event "${options.event}" must be lower-case and dot-separated (e.g. invoice.updated), or *, as the receiver normalises types`,
    );
  }
}

function camelCase(name) {
  const ident = name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
  return reserved.has(ident) || ident === "workflows" ? `${ident}Workflow` : ident;
}

/** Import specifiers for a file in `dir`: relative inside the workflows package, the package name outside it. */
function specifiers(dir) {
  const rel = relative(workflowsSrc, dir);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    return { defineWorkflow: "@zixly/workflows", testing: "@zixly/workflows/testing" };
  }
  const up =
    rel === ""
      ? "."
      : rel
          .split(sep)
          .map(() => "..")
          .join("/");
  return { defineWorkflow: `${up}/define-workflow.js`, testing: `${up}/testing/index.js` };
}

function workflowSource({ name, ident, source, event, imports }) {
  const toInput = sources[source].toInput.map((line) => `  ${line}`).join("\n");
  return `import { z } from "zod";
import { defineWorkflow } from "${imports.defineWorkflow}";

/**
 * TODO: say what this workflow does and why. As generated, it copies a Xero contact to HubSpot
 * when a \`${source}\` \`${event}\` event arrives: replace the steps with your own.
 */
export const ${ident} = defineWorkflow({
  id: "${name}",
  trigger: { source: "${source}", event: "${event}" },
${toInput}
  input: z.object({ contactId: z.string().min(1) }),
  retries: { attempts: 5, backoff: { type: "exponential", delayMs: 2_000 } },
  async run({ input, step, connectors, relate }) {
    // I/O happens only inside steps: a step's result is stored, and a retry reuses it.
    const contact = await step.run("fetch-contact", () => connectors.xero.getContact(input.contactId));
    await relate({ system: "xero", recordType: "contact", recordId: contact.id, action: "read" });
    // Plain code between steps must be deterministic: it runs again on every attempt.
    const email = contact.email;
    if (!email) return { skipped: "contact has no email address", contactId: contact.id };

    const upserted = await step.run("upsert-hubspot-contact", () =>
      connectors.hubspot.upsertContactByEmail({
        email,
        properties: { firstname: contact.firstName ?? "", lastname: contact.lastName ?? "" },
      }),
    );
    await relate({
      system: "hubspot",
      recordType: "contact",
      recordId: upserted.id,
      action: upserted.created ? "created" : "updated",
    });
    return { contactId: contact.id, hubspotContactId: upserted.id, created: upserted.created };
  },
});
`;
}

function testSource({ name, ident, source, imports }) {
  const recordId = sources[source].recordId;
  return `import type { HubspotContact, XeroContact } from "@zixly/connectors";
import { describe, expect, it, vi } from "vitest";
import { loadEventFixture, testWorkflow } from "${imports.testing}";
import { ${ident} } from "./${name}.js";

const event = loadEventFixture(new URL("./${name}.fixture.json", import.meta.url));
/** The contact id the fixture event carries. */
const contactId = "${recordId}";

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

describe("${name}", () => {
  it("copies the contact named by the fixture event to HubSpot", async () => {
    const connectors = fakes();
    const run = await testWorkflow(${ident}, { event, connectors });
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
    const run = await testWorkflow(${ident}, { event, connectors });
    expect(run).toMatchObject({ status: "COMPLETED", attempts: 2 });
    expect(run.delays).toHaveLength(1);
    expect(connectors.xero.getContact).toHaveBeenCalledTimes(1);
    expect(connectors.hubspot.upsertContactByEmail).toHaveBeenCalledTimes(2);
  });

  it("skips a contact without an email address", async () => {
    const connectors = fakes(null);
    const run = await testWorkflow(${ident}, { event, connectors });
    expect(run).toMatchObject({ status: "COMPLETED", result: { skipped: "contact has no email address" } });
    expect(connectors.hubspot.upsertContactByEmail).not.toHaveBeenCalled();
  });

  it("fails at once on an event without the fields the input needs", async () => {
    const run = await testWorkflow(${ident}, { event: { ...event, data: {} }, connectors: fakes() });
    expect(run).toMatchObject({ status: "FAILED", attempts: 1, error: { name: "NonRetriableError" } });
  });
});
`;
}

/** Index of the bracket closing the one at `open`, skipping strings and comments. */
function closingBracket(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === "\\") i++;
    } else if (c === "/" && text[i + 1] === "/") {
      i = text.indexOf("\n", i);
      if (i < 0) return -1;
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i);
      if (i < 0) return -1;
    } else if (c === "[" || c === "(" || c === "{") depth++;
    else if (c === "]" || c === ")" || c === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Top-level, comma-separated entries of an array literal's inside. */
function splitEntries(inside) {
  const entries = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inside.length; i++) {
    const c = inside[i];
    if (c === "[" || c === "(" || c === "{") depth++;
    else if (c === "]" || c === ")" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      entries.push(inside.slice(start, i));
      start = i + 1;
    }
  }
  entries.push(inside.slice(start));
  return entries.map((e) => e.trim()).filter(Boolean);
}

/**
 * Inserts `statement` among the top-level statements `pattern` matches, at the place sorted by
 * module specifier (Biome sorts them the same way), or after the last one.
 */
function insertSorted(text, pattern, statement, specifier) {
  const matches = [...text.matchAll(pattern)];
  const after = matches.find((m) => m[1].startsWith("./") && m[1].toLowerCase() > specifier.toLowerCase());
  if (after) return `${text.slice(0, after.index)}${statement}\n${text.slice(after.index)}`;
  const last = matches.at(-1);
  if (!last) return `${statement}\n${text}`;
  const end = last.index + last[0].length;
  return `${text.slice(0, end)}\n${statement}${text.slice(end)}`;
}

const importPattern = /^import\s[^;]*?from\s*["']([^"']+)["'];?/gm;
const exportFromPattern = /^export\s[^;]*?from\s*["']([^"']+)["'];?/gm;

/**
 * Registers `ident` (exported by `./<name>.js`) in a catalogue index: an import, an entry in
 * `export const workflows = [...]`, and a re-export when the index re-exports its workflows.
 * Each part is skipped when already there, so running it twice changes nothing.
 */
export function registerInIndex(text, { name, ident }) {
  const specifier = `./${name}.js`;
  const done = [];
  const quoted = (s) => `["']${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["']`;
  const fromHere = (kind) => new RegExp(`^${kind}\\s[^;]*?from\\s*${quoted(specifier)}`, "m");

  const arrayStart = /export\s+const\s+workflows\b[^=]*=\s*\[/.exec(text);
  if (!arrayStart) throw new Error("found no `export const workflows = [...]` to add the workflow to");

  if (!fromHere("import").test(text)) {
    if (new RegExp(`\\b${ident}\\b`).test(text)) {
      throw new Error(
        `the index already uses the name ${ident} for something else; pick another workflow name`,
      );
    }
    text = insertSorted(text, importPattern, `import { ${ident} } from "${specifier}";`, specifier);
    done.push("import");
  }

  const match = /export\s+const\s+workflows\b[^=]*=\s*\[/.exec(text);
  const open = match.index + match[0].length - 1;
  const close = closingBracket(text, open);
  if (close < 0) throw new Error("could not find the end of the workflows array");
  const inside = text.slice(open + 1, close);
  const entries = splitEntries(inside);
  if (!entries.some((e) => new RegExp(`^${ident}\\b`).test(e))) {
    const cast = entries.some((e) => /\bas\s+AnyWorkflow\b/.test(e)) || /\bAnyWorkflow\b/.test(text);
    entries.push(cast ? `${ident} as AnyWorkflow` : ident);
    const lineStart = text.lastIndexOf("\n", match.index) + 1;
    const head = text.slice(lineStart, open + 1);
    const oneLine = `${head}${entries.join(", ")}]`;
    const tail = text.slice(close + 1, text.indexOf("\n", close) < 0 ? undefined : text.indexOf("\n", close));
    const body =
      (oneLine + tail).length <= 110 && !inside.includes("\n")
        ? entries.join(", ")
        : `\n${entries.map((e) => `  ${e},`).join("\n")}\n`;
    text = `${text.slice(0, open + 1)}${body}${text.slice(close)}`;
    done.push("workflows array");
  }

  const reexports = [...text.matchAll(exportFromPattern)].filter((m) => m[1].startsWith("./"));
  if (reexports.length > 0 && !fromHere("export").test(text)) {
    text = insertSorted(text, exportFromPattern, `export { ${ident} } from "${specifier}";`, specifier);
    done.push("re-export");
  }
  return { text, done };
}

function main(argv) {
  const options = parseArgs(argv);
  if (options.help) {
    console.log(usage);
    return 0;
  }
  validate(options);
  const { name, source, event } = options;
  const base = process.env.INIT_CWD ?? process.cwd();
  const dir = options.dir ? resolve(base, options.dir) : defaultDir;
  const ident = camelCase(name);
  const files = {
    workflow: join(dir, `${name}.ts`),
    fixture: join(dir, `${name}.fixture.json`),
    test: join(dir, `${name}.test.ts`),
  };
  const show = (file) => relative(process.cwd(), file) || ".";

  const existing = Object.values(files).filter((file) => existsSync(file));
  if (existing.length > 0) {
    throw new Error(
      `refusing to overwrite ${existing.map(show).join(", ")}; pick another name or delete them`,
    );
  }
  if (existsSync(dir)) {
    for (const file of readdirSync(dir)) {
      if (!file.endsWith(".ts") || file.endsWith(".test.ts")) continue;
      if (readFileSync(join(dir, file), "utf8").includes(`id: "${name}"`)) {
        throw new Error(`${show(join(dir, file))} already defines a workflow with the id "${name}"`);
      }
    }
  }

  // Compute the index edit before writing anything, so a failure leaves no half-made workflow.
  const indexFile = join(dir, "index.ts");
  const index = existsSync(indexFile)
    ? registerInIndex(readFileSync(indexFile, "utf8"), { name, ident })
    : undefined;

  const imports = specifiers(dir);
  const fixture = sources[source].event(
    event === "*" ? `${name}.requested` : event,
    sources[source].recordId,
  );
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.workflow, workflowSource({ name, ident, source, event, imports }), { flag: "wx" });
  writeFileSync(files.fixture, `${JSON.stringify(fixture, null, 2)}\n`, { flag: "wx" });
  writeFileSync(files.test, testSource({ name, ident, source, imports }), { flag: "wx" });
  for (const file of Object.values(files)) console.log(`created  ${show(file)}`);
  if (index && index.done.length > 0) {
    writeFileSync(indexFile, index.text);
    console.log(`updated  ${show(indexFile)} (${index.done.join(", ")})`);
  } else if (index) {
    console.log(`kept     ${show(indexFile)} (${ident} was already registered)`);
  } else {
    console.log(`no index.ts in ${show(dir)}: export ${ident} from the module WORKFLOW_MODULES loads`);
  }

  const testFile = relative(root, files.test).split(sep).join("/");
  console.log(`
Workflow "${name}" (${ident}) triggers on ${source} events of type "${event}".

Next steps:
  1. Edit ${show(files.workflow)}: the input, the steps, the result.
     Keep ${show(files.fixture)} a real sample of what the sender posts.
  2. Run its test:  npx vitest run --project workflows ${testFile}
  3. Check it:      npx biome check packages/workflows && npm run typecheck -w @zixly/workflows
  4. Deploy: restart the receiver and the worker (both must know the workflow), then send
     a ${source} event of type "${event}" to an endpoint of that source.
  Guide: docs/workflows.md`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`new:workflow: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof UsageError) console.error(`\n${usage}`);
    process.exitCode = 1;
  }
}
