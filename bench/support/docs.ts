/** Documents for benchmarks, created straight through a store (not part of what is measured). */
import { randomBytes } from 'node:crypto';
import { createRedisStore } from '../../server/index.js';
import type { JsonObject } from '../../src/protocol/index.js';

/** A key prefix no other run uses. */
export function freshPrefix(tag: string): string {
  return `bench:${tag}:${randomBytes(4).toString('hex')}:`;
}

/** Creates `ids` in `service` under `prefix` with `data`. */
export async function createDocs(redisUrl: string, prefix: string, service: string, ids: string[], data: JsonObject): Promise<void> {
  const store = await createRedisStore({ redis: redisUrl, keyPrefix: prefix });
  try {
    await Promise.all(ids.map((id) => store.create(service, id, data)));
  } finally {
    await store.close();
  }
}

let serial = 0;
/** A mutation id never used before in this process (a repeated one would be a cheap replay). */
export function uniqueMutationId(): string {
  serial += 1;
  return `m_${process.pid}_${serial}`;
}
