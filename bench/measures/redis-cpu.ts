/**
 * 5 — Redis CPU per merge write: the write script's usec_per_call (INFO commandstats) ÷ a bare
 * JSON.MERGE of the same patch on a document of the same shape.
 */
import { Redis } from 'ioredis';
import { createRedisStore } from '../../server/index.js';
import { compare, type Measure } from '../harness.js';
import { freshPrefix, uniqueMutationId } from '../support/docs.js';

const DOC = { n: 0, label: 'small document', tags: ['a', 'b'], owner: { name: 'x', role: 'y' } };

type CommandStats = Map<string, { calls: number; usecPerCall: number }>;

/** INFO commandstats: calls and usec_per_call by command name. */
async function commandStats(admin: Redis): Promise<CommandStats> {
  const stats: CommandStats = new Map();
  for (const line of (await admin.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/.exec(line);
    if (m) stats.set(m[1]!, { calls: Number(m[2]), usecPerCall: Number(m[3]) });
  }
  return stats;
}

/** usec_per_call of one command. */
function usecPerCall(stats: CommandStats, command: string): number {
  const s = stats.get(command);
  if (!s) throw new Error(`no commandstats for ${command}`);
  return s.usecPerCall;
}

/** The commands the script ran, with calls per write and usec_per_call. */
function breakdown(stats: CommandStats, writes: number): string {
  const parts: string[] = [];
  for (const [name, s] of stats) {
    if (/^(eval|config|info)/.test(name)) continue;
    parts.push(`${name} ${(s.calls / writes).toFixed(2)}× ${s.usecPerCall} µs`);
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
            const stats = await commandStats(admin);
            ctx.log(`    inside the script, per write: ${breakdown(stats, writes)}`);
            return usecPerCall(stats, 'evalsha');
          },
          async () => {
            await admin.config('RESETSTAT');
            for (let i = 0; i < writes; i++) await admin.call('JSON.MERGE', `${prefix}bare`, '$', JSON.stringify({ n: i }));
            return usecPerCall(await commandStats(admin), 'json.merge');
          },
        ),
      ];
    } finally {
      admin.disconnect();
      await store.close();
    }
  },
};
