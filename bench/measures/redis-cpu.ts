/**
 * 5 — Redis CPU per merge write: the write script's usec_per_call (INFO commandstats) ÷ a bare
 * JSON.MERGE of the same patch on a document of the same shape.
 */
import { Redis } from 'ioredis';
import { createRedisStore } from '../../server/index.js';
import { compare, type Measure } from '../harness.js';
import { freshPrefix, uniqueMutationId } from '../support/docs.js';

const DOC = { n: 0, label: 'small document', tags: ['a', 'b'], owner: { name: 'x', role: 'y' } };

/** usec_per_call of one command from INFO commandstats. */
async function usecPerCall(admin: Redis, command: string): Promise<number> {
  const info = (await admin.info('commandstats')).split('\n');
  const line = info.find((l) => l.startsWith(`cmdstat_${command}:`));
  const m = line && /usec_per_call=([\d.]+)/.exec(line);
  if (!m) throw new Error(`no commandstats for ${command}`);
  return Number(m[1]);
}

/** The commands the script ran, with calls per write and usec_per_call (INFO commandstats). */
async function breakdown(admin: Redis, writes: number): Promise<string> {
  const info = (await admin.info('commandstats')).split('\n');
  const parts: string[] = [];
  for (const line of info) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/.exec(line);
    if (!m || /^(eval|config|info)/.test(m[1]!)) continue;
    parts.push(`${m[1]} ${(Number(m[2]) / writes).toFixed(2)}× ${m[3]} µs`);
  }
  return parts.join(', ');
}

export const redisCpu: Measure = {
  key: 'redis-cpu',
  id: 5,
  async run(ctx) {
    const writes = Math.max(200, Math.round(3000 * ctx.scale));
    const prefix = freshPrefix('cpu');
    const store = await createRedisStore({ redis: ctx.redisUrl, keyPrefix: prefix });
    const admin = new Redis(ctx.redisUrl);
    await store.create('bench', 'cpu', DOC);
    await admin.call('JSON.SET', `${prefix}bare`, '$', JSON.stringify(DOC));
    try {
      return [
        await compare(
          ctx,
          {
            id: 5,
            name: 'Redis CPU per merge: write script ÷ bare JSON.MERGE',
            unit: 'µs/call',
            target: '<= 1.5',
            note: 'INFO commandstats after CONFIG RESETSTAT: usec_per_call of evalsha (the whole write script) vs of json.merge alone, same patch, same document shape.',
          },
          async () => {
            await admin.config('RESETSTAT');
            for (let i = 0; i < writes; i++) await store.merge('bench', 'cpu', { n: i }, { mutationId: uniqueMutationId() });
            ctx.log(`    inside the script, per write: ${await breakdown(admin, writes)}`);
            return usecPerCall(admin, 'evalsha');
          },
          async () => {
            await admin.config('RESETSTAT');
            for (let i = 0; i < writes; i++) await admin.call('JSON.MERGE', `${prefix}bare`, '$', JSON.stringify({ n: i }));
            return usecPerCall(admin, 'json.merge');
          },
        ),
      ];
    } finally {
      admin.disconnect();
      await store.close();
    }
  },
};
