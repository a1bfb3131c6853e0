// Terraform configuration read with HashiCorp's HCL parser (Go, compiled to wasm) as
// packaged by @cdktn/hcl2json: every file must parse, and expressions are inspected for
// the references they make (var.x, module.m.o, local.l, ...).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { getReferencesInExpression, parse } from "@cdktn/hcl2json";

// biome-ignore lint/suspicious/noExplicitAny: hcl2json returns untyped JSON
export type Json = any;
/** A block as hcl2json renders it: attributes, with nested blocks as arrays. */
export type Block = Record<string, Json>;

export interface TfDir {
  dir: string;
  files: string[];
  /** `variable "name" {}` blocks by name. */
  variables: Map<string, Block>;
  outputs: Map<string, Block>;
  modules: Map<string, Block>;
  /** `resource "type" "name" {}` blocks by `type.name`. */
  resources: Map<string, Block>;
  data: Map<string, Block>;
  locals: Map<string, Json>;
  providers: Map<string, Block[]>;
  terraform: Block[];
  /** Every reference made anywhere in the directory, e.g. `var.region`. */
  references: Reference[];
}

export interface Reference {
  file: string;
  /** The traversal, e.g. `module.queue.queue_url`. */
  value: string;
}

function single(blocks: Json, what: string): Block {
  if (!Array.isArray(blocks) || blocks.length !== 1)
    throw new Error(`${what} is declared ${blocks?.length ?? 0} times`);
  return blocks[0] as Block;
}

function addUnique<T>(map: Map<string, T>, key: string, value: T, what: string): void {
  if (map.has(key)) throw new Error(`${what} ${key} is declared twice`);
  map.set(key, value);
}

/** Every string in a parsed tree (expressions are strings holding `${...}`). */
function* strings(node: Json): Generator<string> {
  if (typeof node === "string") yield node;
  else if (Array.isArray(node)) for (const item of node) yield* strings(item);
  else if (node && typeof node === "object") for (const value of Object.values(node)) yield* strings(value);
}

/** Parses every `*.tf` file of a directory (not recursive). */
export async function loadTfDir(dir: string): Promise<TfDir> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".tf"))
    .sort();
  const out: TfDir = {
    dir,
    files,
    variables: new Map(),
    outputs: new Map(),
    modules: new Map(),
    resources: new Map(),
    data: new Map(),
    locals: new Map(),
    providers: new Map(),
    terraform: [],
    references: [],
  };
  for (const file of files) {
    const full = path.join(dir, file);
    const parsed = (await parse(full, readFileSync(full, "utf8"))) as Record<string, Json>;
    for (const [kind, body] of Object.entries(parsed)) {
      switch (kind) {
        case "variable":
        case "output":
        case "module": {
          const target = kind === "variable" ? out.variables : kind === "output" ? out.outputs : out.modules;
          for (const [name, blocks] of Object.entries(body))
            addUnique(target, name, single(blocks, `${kind} ${name}`), kind);
          break;
        }
        case "resource":
        case "data": {
          const target = kind === "resource" ? out.resources : out.data;
          for (const [type, byName] of Object.entries(body as Record<string, Json>)) {
            for (const [name, blocks] of Object.entries(byName as Record<string, Json>)) {
              addUnique(target, `${type}.${name}`, single(blocks, `${kind} ${type}.${name}`), kind);
            }
          }
          break;
        }
        case "locals":
          for (const block of body as Block[]) {
            for (const [name, value] of Object.entries(block)) addUnique(out.locals, name, value, "local");
          }
          break;
        case "provider":
          for (const [name, blocks] of Object.entries(body as Record<string, Block[]>)) {
            out.providers.set(name, [...(out.providers.get(name) ?? []), ...blocks]);
          }
          break;
        case "terraform":
          out.terraform.push(...(body as Block[]));
          break;
        default:
          throw new Error(`${full}: unexpected top-level block "${kind}"`);
      }
    }
    for (const text of strings(parsed)) {
      if (!text.includes("${")) continue;
      for (const ref of await getReferencesInExpression(full, text))
        out.references.push({ file, value: ref.value });
    }
  }
  return out;
}

/** The names referenced under a root: `refsUnder(dir, "var")` → `["region", ...]`. */
export function refsUnder(dir: TfDir, root: string): Set<string> {
  const names = new Set<string>();
  for (const ref of dir.references) {
    const parts = ref.value.split(".");
    if (parts[0] === root && parts[1]) names.add(parts[1]);
  }
  return names;
}

/** Whether a variable must be given (no `default` attribute at all). */
export const isRequired = (variable: Block): boolean => !("default" in variable);

/** The references made by one expression string (or tree). */
export async function referencesIn(node: Json): Promise<string[]> {
  const refs: string[] = [];
  for (const text of strings(node)) {
    if (!text.includes("${")) continue;
    for (const ref of await getReferencesInExpression("expression.tf", text)) refs.push(ref.value);
  }
  return refs;
}

/**
 * Renders a string template whose only interpolations are `${var.name}`, from a variable
 * table; anything else throws (the tests use it for names, which are plain templates).
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{([^}]*)\}/g, (_, expr: string) => {
    const match = /^\s*var\.([A-Za-z0-9_-]+)\s*$/.exec(expr);
    if (!match) throw new Error(`cannot render \${${expr}} in ${template}`);
    const value = vars[match[1]!];
    if (value === undefined) throw new Error(`no value for var.${match[1]} in ${template}`);
    return value;
  });
}

/** Literal string defaults of a directory's variables. */
export function stringDefaults(dir: TfDir): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, block] of dir.variables) {
    if (typeof block.default === "string" || typeof block.default === "number")
      out[name] = String(block.default);
  }
  return out;
}
