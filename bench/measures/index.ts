/** Every measure, in the order. */
import type { Measure } from '../harness.js';
import { authWrites } from './auth-writes.js';
import { bundleSize } from './bundle-size.js';
import { clientDiff } from './client-diff.js';
import { crossRelay } from './cross-relay.js';
import { fanout } from './fanout.js';
import { floodLatency } from './flood-latency.js';
import { hocuspocus } from './hocuspocus.js';
import { idleMemory } from './idle-memory.js';
import { latency } from './latency.js';
import { redisCpu } from './redis-cpu.js';
import { relayWrites } from './relay-writes.js';
import { selectRenders } from './select-renders.js';
import { sharedb } from './sharedb.js';
import { storageReload } from './storage-reload.js';
import { wireBytes } from './wire-bytes.js';

export const MEASURES: Measure[] = [relayWrites, fanout, latency, crossRelay, redisCpu, clientDiff, selectRenders, wireBytes, idleMemory, bundleSize, sharedb, hocuspocus, authWrites, floodLatency, storageReload];
