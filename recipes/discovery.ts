// Service discovery: instances register under `<service>/<instance id>` on a
// session's lease (they vanish when the instance dies), and observers see the
// live set, read at one revision and kept current by a watch.
import { map, type Observable } from 'rxjs';
import type { Client } from '../client/index.js';
import { observeConfig } from './config.js';
import type { Session } from './session.js';

/** A live instance: its id and what it advertised (e.g. an address). */
export interface Instance {
  id: string;
  value: string;
}

/** Registers `id` of `service` with `value` until the session ends; resolves a function that deregisters it. */
export async function register(session: Session, service: string, id: string, value: string): Promise<() => Promise<void>> {
  session.assertOpen();
  const key = `${service}/${id}`;
  await session.client.put(key, value, { lease: session.lease });
  return async () => { await session.client.delete(key); };
}

/** A cold Observable of the live instances of `service`, sorted by id; emits on every change. */
export function instances$(client: Client, service: string): Observable<Instance[]> {
  return observeConfig(client, `${service}/`, (entries) =>
    [...entries].map(([id, value]) => ({ id, value: value.toString('utf8') })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  ).pipe(map((update) => (update.status === 'valid' ? update.value : [])));
}
