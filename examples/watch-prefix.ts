// Watch a prefix: prints each revision's events until Ctrl-C, or until
// `count` batches were seen. The watch survives a restart of the member or a
// failover to another endpoint without losing or repeating events.
//
//   node dist/examples/watch-prefix.js [prefix] [count] [endpoint ...]
//   (then, elsewhere: etcdctl put config/a 1)
import { take } from 'rxjs';
import { codecs, CompactedError, connect, EventType } from '../client/index.js';

async function main(): Promise<void> {
  const [prefix = 'config/', count = '0', ...endpoints] = process.argv.slice(2);
  const client = await connect({ endpoints: endpoints.length > 0 ? endpoints : ['127.0.0.1:2379'] });
  const batches$ = client.watch$({ prefix }, { prevKv: true, codec: codecs.string });
  const limited$ = Number(count) > 0 ? batches$.pipe(take(Number(count))) : batches$;
  console.log(`watching ${prefix}*`);
  const subscription = limited$.subscribe({
    next: (batch) => {
      for (const event of batch.events) {
        const shown = event.type === EventType.Put ? `= ${event.kv.value}` : `(was ${event.prevKv?.value ?? '?'})`;
        console.log(`revision ${batch.revision}: ${event.type} ${event.kv.key} ${shown}`);
      }
    },
    error: (error: unknown) => {
      // Compaction removed history we still needed: re-read the state and watch again from there.
      if (error instanceof CompactedError) console.error(`history compacted up to ${error.compactRevision}`);
      else console.error(error);
      client.close();
      process.exitCode = 1;
    },
    complete: () => client.close(),
  });
  process.once('SIGINT', () => {
    subscription.unsubscribe(); // cancels the watch on the server
    client.close();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
