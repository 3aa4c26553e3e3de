// Writes many keys through a member's JSON gateway, as the console's tests
// and its benchmark fill a keyspace: puts grouped into txns (each one
// revision), a few txns in flight. A refused txn throws with the gateway's
// status and answer.

/** Puts per txn: --max-txn-ops' default, the most a txn may hold on etcd and cairn alike. */
const putsPerTxn = 128;

export interface GatewayPutOptions {
  /** Txns sent at once (default 1: one after another, in order). */
  txnsInFlight?: number;
}

/** Puts every key of `keys` with `value` (text or bytes) through `clientUrl`'s /v3/kv/txn. */
export async function putThroughGateway(clientUrl: string, keys: readonly string[], value: string | Buffer, options: GatewayPutOptions = {}): Promise<void> {
  const value64 = Buffer.from(value).toString('base64');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const batch = keys.slice(next, next + putsPerTxn);
      next += batch.length;
      const success = batch.map((key) => ({ request_put: { key: Buffer.from(key).toString('base64'), value: value64 } }));
      const response = await fetch(`${clientUrl}/v3/kv/txn`, { method: 'POST', body: JSON.stringify({ success }) });
      if (!response.ok) throw new Error(`put through the gateway: ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.txnsInFlight ?? 1) }, worker));
}
