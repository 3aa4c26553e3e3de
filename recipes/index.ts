// Coordination recipes built on the public SDK only: etcd's algorithms and key layouts.
export * from './errors.js';
export { Session, SessionState, type SessionOptions } from './session.js';
export { Mutex, sessionKey, type HeldLock } from './mutex.js';
export type { WaitOptions } from './wait.js';
export { Election, type Leader, type Leadership } from './election.js';
export { Barrier } from './barrier.js';
export { DoubleBarrier } from './double-barrier.js';
export { Queue, PriorityQueue, priorityMax } from './queue.js';
export { Semaphore, type HeldPermit } from './semaphore.js';
export { RWMutex, type HeldRWLock } from './rwmutex.js';
export { observeConfig, type ConfigEntries, type ConfigUpdate, type ObserveConfigOptions } from './config.js';
export { register, instances$, type Instance } from './discovery.js';
