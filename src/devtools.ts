/**
 * syncdoc/devtools: the `<SyncDevtools>` panel, in an entry of its own so that apps which do
 * not render it do not ship it. It reads the cache of the nearest `RealtimeProvider` from
 * `syncdoc/react`.
 * @packageDocumentation
 */
export { SyncDevtools, describeActivity } from './react/devtools.js';
export type { SyncDevtoolsProps } from './react/devtools.js';
export type { Activity } from './core/activity-log.js';
