// The SDK side of a Go interop scenario: one cairn-SDK client on a server, the
// recipe sessions opened on it, all closed when the scenario ends, whichever
// way it ends.
import { connect, type Client } from '../../../client/index.js';
import { Session } from '../../../recipes/index.js';
import { eventually } from '../../sdk/support.js';

/** The recipes' session TTL in these scenarios; every session is closed (revoked) at the end anyway. */
const sessionTtlSeconds = 10;

export interface RecipeSide {
  readonly client: Client;
  /** A new session (its own lease) on the side's client. */
  session(): Promise<Session>;
}

export async function withRecipes<T>(endpoint: string, scenario: (side: RecipeSide) => Promise<T>): Promise<T> {
  const client = await connect({ endpoints: [endpoint] });
  const sessions: Session[] = [];
  const session = async () => {
    const opened = await Session.create(client, { ttlSeconds: sessionTtlSeconds });
    sessions.push(opened);
    return opened;
  };
  try {
    return await scenario({ client, session });
  } finally {
    await Promise.all(sessions.map((opened) => opened.close().catch(() => undefined)));
    client.close();
  }
}

/** Waits until `count` keys exist under `prefix`: a lock's or an election's queue has that many members. */
export async function waitForKeys(client: Client, prefix: string, count: number, timeoutMs = 10_000): Promise<void> {
  await eventually(async () => (await client.getRange({ prefix }, { countOnly: true })).count >= count, timeoutMs, `${count} keys under ${prefix}`);
}
