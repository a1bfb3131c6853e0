/**
 * The DMMF (Prisma's parsed data model) of a schema, offline. `@prisma/internals` is not a
 * dependency; the `prisma` CLI package ships the same schema wasm it uses for `getDMMF`
 * (`build/prisma_schema_build_bg.wasm`), so this loads that module with the few
 * wasm-bindgen imports it needs and calls its `get_dmmf`.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

/** The parts of the DMMF the schema checks read. */
export interface Dmmf {
  datamodel: {
    enums: DmmfEnum[];
    models: DmmfModel[];
    indexes: DmmfIndex[];
  };
}

export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName?: string | null }[];
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}

export type DmmfDefault =
  | string
  | number
  | boolean
  | { name: string; args: (string | number)[] }
  | (string | number | boolean)[];

export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object" | "unsupported";
  type: string;
  isList: boolean;
  isRequired: boolean;
  isUpdatedAt: boolean;
  nativeType?: [string, string[]] | null;
  default?: DmmfDefault;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

export interface DmmfIndex {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  dbName?: string | null;
  fields: { name: string; sortOrder?: "asc" | "desc" }[];
}

/**
 * The slice of the WebAssembly JS API used here: neither lib ES2023 nor @types/node 20
 * declares it (it lives in lib.dom).
 */
interface WasmTable {
  grow(delta: number): number;
  get(index: number): unknown;
  set(index: number, value: unknown): void;
}
interface WasmModuleImport {
  module: string;
  name: string;
}
interface WasmApi {
  Module: { new (bytes: Uint8Array): object; imports(module: object): WasmModuleImport[] };
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface SchemaWasm {
  memory: { buffer: ArrayBuffer };
  get_dmmf(ptr: number, len: number): [number, number, number, number];
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  __wbindgen_start(): void;
  __wbindgen_externrefs: WasmTable;
  __externref_table_dealloc(index: number): void;
}

let wasm: Promise<SchemaWasm> | undefined;

async function instantiate(): Promise<SchemaWasm> {
  const require = createRequire(import.meta.url);
  const file = path.join(
    path.dirname(require.resolve("prisma/package.json")),
    "build",
    "prisma_schema_build_bg.wasm",
  );
  const module = new WebAssembly.Module(await readFile(file));
  let exports: SchemaWasm | undefined;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const text = (ptr: number, len: number) =>
    decoder.decode(new Uint8Array(exports!.memory.buffer, ptr >>> 0, len));
  // wasm-bindgen names imports `<purpose>_<hash>`; match the purpose so a new CLI build still loads.
  const shims: [string, (...args: number[]) => unknown][] = [
    ["__wbg_set_message_", () => {}],
    ["__wbg_Error_", (ptr, len) => new Error(text(ptr!, len!))],
    [
      "__wbg___wbindgen_throw_",
      (ptr, len) => {
        throw new Error(text(ptr!, len!));
      },
    ],
    [
      "__wbindgen_init_externref_table",
      () => {
        const table = exports!.__wbindgen_externrefs;
        const offset = table.grow(4);
        table.set(0, undefined);
        table.set(offset, undefined);
        table.set(offset + 1, null);
        table.set(offset + 2, true);
        table.set(offset + 3, false);
      },
    ],
  ];
  const imports: Record<string, Record<string, (...args: number[]) => unknown>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const shim = shims.find(([prefix]) => imp.name.startsWith(prefix));
    if (!shim)
      throw new Error(`${file} needs an import this loader does not provide: ${imp.module}.${imp.name}`);
    imports[imp.module] ??= {};
    imports[imp.module]![imp.name] = shim[1];
  }
  exports = new WebAssembly.Instance(module, imports).exports as unknown as SchemaWasm;
  exports.__wbindgen_start();
  return exports;
}

/** Parses a Prisma schema into its DMMF; throws Prisma's validation errors for a bad schema. */
export async function getDmmf(schema: string): Promise<Dmmf> {
  wasm ??= instantiate();
  const ex = await wasm;
  const input = new TextEncoder().encode(JSON.stringify({ prismaSchema: schema, noColor: true }));
  const ptr = ex.__wbindgen_malloc(input.length, 1) >>> 0;
  new Uint8Array(ex.memory.buffer, ptr, input.length).set(input);
  const [outPtr, outLen, errIndex, isErr] = ex.get_dmmf(ptr, input.length);
  if (isErr) {
    const err: unknown = ex.__wbindgen_externrefs.get(errIndex);
    ex.__externref_table_dealloc(errIndex);
    throw err instanceof Error ? err : new Error(String(err));
  }
  try {
    return JSON.parse(
      new TextDecoder().decode(new Uint8Array(ex.memory.buffer, outPtr >>> 0, outLen)),
    ) as Dmmf;
  } finally {
    ex.__wbindgen_free(outPtr, outLen, 1);
  }
}
