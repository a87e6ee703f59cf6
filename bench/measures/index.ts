/** Every measure, in the order. */
import type { Measure } from '../harness.js';
import { crossRelay } from './cross-relay.js';
import { fanout } from './fanout.js';
import { idleMemory } from './idle-memory.js';
import { latency } from './latency.js';
import { redisCpu } from './redis-cpu.js';
import { relayWrites } from './relay-writes.js';

export const MEASURES: Measure[] = [relayWrites, fanout, latency, crossRelay, redisCpu, idleMemory];
