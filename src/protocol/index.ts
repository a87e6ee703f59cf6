/** The wire protocol and the document rules, shared by the client and the relay. */
export * from './errors.js';
export * from './json.js';
export * from './names.js';
export * from './paths.js';
export * from './diff.js';
export * from './merge.js';
export * from './mutations.js';
export * from './events.js';
export * from './topics.js';
export * from './messages.js';
export * from './validate-message.js';
export * from './timers.js';
