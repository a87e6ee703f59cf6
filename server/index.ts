/** syncdoc/server: the relay and its storage drivers. */
export { createRelay } from './relay.js';
export type { Relay, RelayOptions } from './relay.js';
export { createMemoryStore } from './store/memory.js';
export { createRedisStore, assertRedisJson } from './store/redis.js';
export type { RedisStoreOptions } from './store/redis.js';
export type { CatchUpOptions, Store, StoreEvent, StoreSettings, WriteOptions } from './store/types.js';
export type { DocumentLimits } from '../src/protocol/json.js';
export type { AuthOptions, JwtAuthOptions, CustomAuthOptions } from './auth/verify.js';
export type { Principal, Grants, Right } from './auth/principal.js';
export { mintToken, parseGrants } from './auth/mint.js';
export type { MintOptions } from './auth/mint.js';
export { DEFAULT_CONNECTION_LIMITS } from './limits.js';
export type { ConnectionLimits, RefusalReason } from './limits.js';
