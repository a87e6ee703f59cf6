/**
 * Issue 12, point 9: a merge patch may `null` only a field that may be missing (optional, or a
 * key of an index signature), since `null` removes it; it names known fields only, nested
 * objects in part, arrays whole. Checked by `tsc`; `@ts-expect-error` lines must fail to compile.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { JsonObject, MergePatch, SyncClient } from '../../src/index.js';
import type { DocumentActions } from '../../src/react.js';

interface Profile {
  name: string;
  nickname?: string;
  deletedAt: number | null;
  tags: string[];
  settings: { theme: 'light' | 'dark'; font?: string };
  extras?: { [key: string]: number };
  links: Record<string, string>;
}

type P = MergePatch<Profile>;
declare const sync: SyncClient;
declare const doc: DocumentActions<Profile>;

describe('MergePatch', () => {
  it('takes any subset of known fields, nested objects in part', () => {
    const ok: P = { name: 'a', tags: ['x'], settings: { font: 'serif' }, links: { home: 'https://example.com' } };
    const nulls: P = { nickname: null, extras: null, settings: { font: null }, links: { old: null } };
    const empty: P = {};
    void [ok, nulls, empty];
    const _client = () => sync.merge<Profile>('profile', 'p1', { nickname: null, settings: { theme: 'dark' } });
    const _actions = () => doc.merge({ extras: { n: 1, m: null } });
    void [_client, _actions];
    // An untyped document (and any index signature) may null any key.
    expectTypeOf<{ a: null }>().toExtend<MergePatch<JsonObject>>();
    expectTypeOf<{ a: null }>().toExtend<MergePatch<Record<string, unknown>>>();
    // Arrays are replaced whole.
    expectTypeOf<P['tags']>().toEqualTypeOf<string[] | undefined>();
  });

  it('nulls only optional fields', () => {
    // @ts-expect-error: name is required
    const _a: P = { name: null };
    // @ts-expect-error: a required nested field
    const _b: P = { settings: { theme: null } };
    // @ts-expect-error: a nullable required field cannot be set to null by a patch: null removes it
    const _c: P = { deletedAt: null };
    // @ts-expect-error: nor an array
    const _d: P = { tags: null };
    void [_a, _b, _c, _d];
    // @ts-expect-error: through the document's actions too
    const _e = () => doc.merge({ name: null });
    // @ts-expect-error: and the client's
    const _f = () => sync.merge<Profile>('profile', 'p1', { settings: null });
    void [_e, _f];
  });

  it('refuses unknown fields and wrong values', () => {
    // @ts-expect-error: a field Profile does not have
    const _a: P = { nope: 1 };
    // @ts-expect-error: a value of the wrong type
    const _b: P = { settings: { theme: 'blue' } };
    // @ts-expect-error: an array element of the wrong type
    const _c: P = { tags: [1] };
    void [_a, _b, _c];
  });
});
