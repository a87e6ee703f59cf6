/** Documents carried as JSON text: what the relay splices into answers must be the document. */
import { describe, expect, it } from 'vitest';
import { documentFromText, textOf } from '../../server/store/document-text.js';

const head = { service: 'session', id: 'd1', revision: 3, createdAt: 10, updatedAt: 20, incarnation: 'k3v9q0a1b2c4' };

describe('documentFromText', () => {
  it('builds its text from the head and data when none is given, and it parses to the document', () => {
    const doc = documentFromText(head, '{"a":[1,{"b":"x"}]}');
    expect(JSON.parse(textOf(doc)!)).toEqual({ ...head, data: { a: [1, { b: 'x' }] } });
    expect(doc).toEqual({ ...head, data: { a: [1, { b: 'x' }] } });
  });

  it('parses the data once, on first access', () => {
    const doc = documentFromText(head, '{"a":1}');
    const first = doc.data;
    expect(doc.data).toBe(first);
    expect(Object.keys(doc)).toEqual(['service', 'id', 'revision', 'createdAt', 'updatedAt', 'incarnation', 'data']);
  });

  it('keeps a text it is given, and plain values have none', () => {
    const text = '{"service":"session","id":"d1","revision":3,"createdAt":10,"updatedAt":20,"incarnation":"k3v9q0a1b2c4","data":{}}';
    expect(textOf(documentFromText(head, '{}', text))).toBe(text);
    expect(textOf({ ...head, data: {} })).toBeUndefined();
    expect(textOf(null)).toBeUndefined();
  });
});
