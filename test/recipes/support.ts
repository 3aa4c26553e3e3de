// Shared helpers of the recipe suites: one server per target, clients that are always closed.
import { connect, type Client } from '../../client/index.js';
import { Session, type SessionOptions } from '../../recipes/index.js';
import type { ServerHandle } from '../harness/launcher.js';
import { selectedTargets, type Target } from '../sdk/support.js';

export { eventually, sleep, rejection } from '../sdk/support.js';
export { selectedTargets, type Target };

/** A server for one describe block, and every client/session opened against it (closed in `after`). */
export class Fixture {
  server!: ServerHandle;
  private readonly clients: Client[] = [];
  private readonly sessions: Session[] = [];

  constructor(readonly target: Target) {}

  async start(): Promise<void> {
    this.server = await this.target.start();
  }

  async client(): Promise<Client> {
    const client = await connect({ endpoints: [this.server.endpoint] });
    this.clients.push(client);
    return client;
  }

  async session(options: SessionOptions = {}, client?: Client): Promise<Session> {
    const session = await Session.create(client ?? await this.client(), { ttlSeconds: 10, ...options });
    this.sessions.push(session);
    return session;
  }

  async stop(): Promise<void> {
    await Promise.all(this.sessions.map((session) => session.close().catch(() => undefined)));
    for (const client of this.clients) client.close();
    await this.server?.destroy();
  }
}
