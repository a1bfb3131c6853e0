import { NonRetriableError } from "@zixly/core";

/**
 * The connectors a test hands a workflow: any subset of each connector's operations (a
 * `vi.fn()` per operation the workflow should call). Operations left out fail the step with a
 * {@link NonRetriableError} that names them, so a test never reaches a real vendor by accident.
 *
 * @example
 * ```ts
 * const connectors: FakeConnectors<WorkflowConnectors> = {
 *   xero: { getInvoice: vi.fn(async () => invoice) },
 * };
 * ```
 */
export type FakeConnectors<TConnectors> = {
  [K in keyof TConnectors]?: TConnectors[K] extends object ? Partial<TConnectors[K]> : TConnectors[K];
};

/** Keys a runtime probes on any object (promise detection, inspection) that must not throw. */
const probes = new Set(["then", "toJSON", "constructor", "asymmetricMatch", "$$typeof", "nodeType"]);

function unfaked(path: string): () => never {
  return () => {
    throw new NonRetriableError(
      `connectors.${path} was called, but the test did not fake it (pass it in \`connectors\`)`,
    );
  };
}

function guarded(connector: object, name: string): object {
  return new Proxy(connector, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (value !== undefined || typeof key === "symbol" || probes.has(key)) return value;
      return unfaked(`${name}.${key}`);
    },
  });
}

/**
 * Wraps the fakes a test passes so that a call to an operation or connector it did not fake
 * fails loudly instead of reading `undefined`.
 */
export function guardConnectors<TConnectors>(fakes: FakeConnectors<TConnectors> | undefined): TConnectors {
  const given: object = fakes ?? {};
  return new Proxy(given, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof key === "symbol" || probes.has(key)) return value;
      if (value === undefined) return guarded({}, key);
      return typeof value === "object" && value !== null ? guarded(value, key) : value;
    },
  }) as TConnectors;
}
