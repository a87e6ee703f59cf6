/**
 * Documents that come with their JSON text. A Redis store already holds a written or read
 * document as text: the relay splices that text into its answer frame instead of parsing it
 * into objects and serializing them again, and the data is parsed only if someone reads it.
 */
import type { JsonObject, SyncDocument } from '../../src/protocol/index.js';

const texts = new WeakMap<object, string>();

/** The JSON text `value` was made from, if a store recorded one. */
export function textOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? texts.get(value) : undefined;
}

/** The parts of a document whose data is still JSON text. */
export interface DocumentHead {
  service: string;
  id: string;
  revision: number;
  createdAt: number;
  updatedAt: number;
  incarnation: string;
}

/**
 * A {@link SyncDocument} whose `data` is parsed from `dataJson` on first access, and whose whole
 * text is `text` (or, if not given, built from the head and `dataJson`).
 */
export function documentFromText(head: DocumentHead, dataJson: string, text?: string): SyncDocument {
  const doc = { ...head } as SyncDocument;
  Object.defineProperty(doc, 'data', {
    enumerable: true,
    configurable: true,
    get(): JsonObject {
      const data = JSON.parse(dataJson) as JsonObject;
      Object.defineProperty(doc, 'data', { value: data, enumerable: true, writable: true, configurable: true });
      return data;
    },
  });
  texts.set(
    doc,
    text ??
      `{"service":${JSON.stringify(head.service)},"id":${JSON.stringify(head.id)},"revision":${head.revision},` +
        `"createdAt":${head.createdAt},"updatedAt":${head.updatedAt},"incarnation":${JSON.stringify(head.incarnation)},"data":${dataJson}}`,
  );
  return doc;
}
