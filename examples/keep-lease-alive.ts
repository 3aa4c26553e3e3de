// Keep a lease alive: registers this process under `services/<name>` with a
// lease, keeps the lease alive while running, and removes the key on exit by
// revoking the lease. If the lease is lost (the cluster was unreachable for
// longer than the TTL), the registration is gone and the program says so.
//
//   node dist/examples/keep-lease-alive.js [seconds-to-run] [endpoint ...]
import { timer } from 'rxjs';
import { connect, LeaseLostError } from '../client/index.js';

async function main(): Promise<void> {
  const [seconds = '5', ...endpoints] = process.argv.slice(2);
  const client = await connect({ endpoints: endpoints.length > 0 ? endpoints : ['127.0.0.1:2379'] });
  const lease = await client.leases.grant(5);
  const key = `services/example-${process.pid}`;
  await client.put(key, JSON.stringify({ pid: process.pid }), { lease: lease.id });
  console.log(`registered ${key} with lease ${lease.id.toString(16)} (TTL ${lease.ttlSeconds} s)`);

  const keepAlive = client.leases.keepAlive$(lease.id).subscribe({
    next: (response) => console.log(`lease renewed to ${response.ttlSeconds} s`),
    error: (error: unknown) => {
      if (error instanceof LeaseLostError) console.error(`lease lost (${error.reason}): ${key} is gone`);
      else console.error(error);
      client.close();
      process.exitCode = 1;
    },
  });

  const stop = async () => {
    keepAlive.unsubscribe(); // stops keep-alives; revoking deletes the key at once instead of after the TTL
    await client.leases.revoke(lease.id).catch(() => undefined);
    client.close();
    console.log('deregistered');
  };
  process.once('SIGINT', () => void stop());
  timer(Number(seconds) * 1000).subscribe(() => void stop());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
