// Put and get: strings, JSON through a codec, a prefix read, and a
// compare-and-swap txn.
//
//   node dist/examples/put-get.js [endpoint ...]     (default 127.0.0.1:2379)
import { codecs, compare, connect, op } from '../client/index.js';

interface Settings {
  replicas: number;
  region: string;
}

async function main(): Promise<void> {
  const endpoints = process.argv.slice(2);
  const client = await connect({ endpoints: endpoints.length > 0 ? endpoints : ['127.0.0.1:2379'], namespace: 'examples/' });
  try {
    await client.put('greeting', 'hello');
    const greeting = await client.get('greeting', { codec: codecs.string });
    console.log(`greeting = ${greeting?.value} (revision ${greeting?.modRevision})`);

    const json = codecs.json<Settings>();
    await client.put('settings', { replicas: 3, region: 'eu' }, { codec: json });
    const settings = await client.get('settings', { codec: json });
    console.log(`settings.replicas = ${settings?.value.replicas}`);

    const all = await client.getRange({ prefix: '' }, { keysOnly: true });
    console.log(`keys: ${all.kvs.map((kv) => kv.key).join(', ')} (count ${all.count})`);

    // Compare-and-swap: replace the greeting only if nobody changed it since we read it.
    const swap = await client.txn()
      .if(compare.modRevision('greeting', '=', greeting?.modRevision ?? 0n))
      .then([op.put('greeting', 'hello again')])
      .else([op.get('greeting')])
      .commit();
    console.log(`compare-and-swap ${swap.succeeded ? 'succeeded' : 'lost the race'} at revision ${swap.revision}`);

    await client.delete({ prefix: '' });
  } finally {
    client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
