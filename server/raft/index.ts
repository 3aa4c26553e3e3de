/** Public surface of the Raft core. Everything else in server/raft is internal. */
export { RawNode, type Ready, type Status } from './rawnode.js';
export type { Raft } from './raft.js';
export { resolveConfig, ReadOnlyOption, type RaftConfig, type DeliberateBugs } from './config.js';
export type { Storage, InitialState } from './storage.js';
export { MemoryStorage } from './memory-storage.js';
export { SeededRandom, type Random } from './random.js';
export { ConfChangeType, encodeConfChange, decodeConfChange, type ConfChange } from './conf-change.js';
export { RaftInvariantError } from './assert.js';
export * from './errors.js';
export * from './types.js';
export { entryFromPb, entryToPb, hardStateFromPb, hardStateToPb } from './convert.js';
