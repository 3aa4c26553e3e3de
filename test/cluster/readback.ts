// Reads every key under a prefix, page by page at one pinned revision, so the
// result is one consistent snapshot however many keys there are and no reply
// comes near gRPC's 4 MiB default message limit.
import { credentials, Metadata } from '@grpc/grpc-js';
import { KVClient, RangeRequest, type RangeResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { prefixEnd } from '../../client/keys.js';

const pageKeysMax = 1000n;
/** 1000 pages of 1000 keys: far beyond what the crash test writes. */
const pagesMax = 1000;
const requestTimeoutMs = 10_000;

export interface Snapshot {
  /** The store revision the pages were read at (header.revision of the first page). */
  revision: bigint;
  kvs: KeyValue[];
}

function range(client: KVClient, request: RangeRequest): Promise<RangeResponse> {
  return new Promise((resolve, reject) => {
    client.range(request, new Metadata(), { deadline: Date.now() + requestTimeoutMs }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

export async function readPrefix(endpoint: string, prefix: string): Promise<Snapshot> {
  const client = new KVClient(endpoint, credentials.createInsecure());
  const rangeEnd = prefixEnd(Buffer.from(prefix));
  const kvs: KeyValue[] = [];
  let key = Buffer.from(prefix);
  let revision = 0n; // 0 reads at the current revision; later pages pin the first page's.
  try {
    for (let page = 0; page < pagesMax; page++) {
      const response = await range(client, RangeRequest.fromPartial({ key, rangeEnd, limit: pageKeysMax, revision }));
      if (response.header === undefined) throw new Error('range response has no header');
      if (revision === 0n) revision = response.header.revision;
      kvs.push(...response.kvs);
      const last = response.kvs.at(-1);
      if (!response.more || last === undefined) return { revision, kvs };
      key = Buffer.concat([last.key, Buffer.from([0])]); // The next key after `last`.
    }
    throw new Error(`more than ${pagesMax} pages under ${prefix}`);
  } finally {
    client.close();
  }
}
