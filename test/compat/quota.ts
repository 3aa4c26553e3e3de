// What the quota tests share (compat/alarm.test.ts, cluster/alarms.test.ts):
// a small quota, one value that fits an empty backend but not one that holds
// it, and a wait until a server's reported size covers what was written.
//
// Why one large value rather than many small ones: the two backends do not
// grow alike. With --quota-backend-bytes 1 MiB and 100 KiB puts, cairn's lmdb
// grows by each value's pages (26 of 4 KiB) and refuses the 10th put; etcd's
// bbolt refuses the 9th when the puts come back to back and the 5th when they
// are 300 ms apart: it stores large values inside the leaf that holds them
// and rewrites that leaf whole on each commit, and it commits (and measures
// itself) every 100 ms. A single value of 60 % of the quota fits either
// empty backend and never a second time.
import { credentials, Metadata } from '@grpc/grpc-js';
import { MaintenanceClient, StatusRequest } from '../../proto/gen/etcdserverpb/rpc.js';

export const quotaBytes = 1024 * 1024;
export const quotaArgs = ['--quota-backend-bytes', String(quotaBytes)];
export const bigValueBytes = 600 * 1024;
/** The large value, given to `etcdctl put <key>` on stdin (an argument that long exceeds Linux's limit for one argument). */
export const bigValue = 'v'.repeat(bigValueBytes);

const sizeWaitMsMax = 5_000;
const sizePollMs = 50;

/**
 * Waits until the server at `endpoint` reports a dbSize of at least
 * `bytesMin`. etcd measures its backend when it commits, every 100 ms, and
 * weighs writes against that figure; a put decided before then would be
 * weighed against the size before the last put. cairn measures after every
 * applied batch, so it returns at once.
 */
export async function waitBackendSize(endpoint: string, bytesMin: number): Promise<void> {
  const client = new MaintenanceClient(endpoint, credentials.createInsecure());
  const deadline = Date.now() + sizeWaitMsMax;
  try {
    for (;;) {
      const dbSize = await new Promise<bigint>((resolve, reject) =>
        client.status(StatusRequest.fromPartial({}), new Metadata(), { deadline: Date.now() + sizeWaitMsMax }, (error, response) =>
          error !== null ? reject(error) : resolve(response.dbSize),
        ),
      );
      if (dbSize >= BigInt(bytesMin)) return;
      if (Date.now() > deadline) throw new Error(`${endpoint} reports dbSize ${dbSize}, still below ${bytesMin} after ${sizeWaitMsMax} ms`);
      await new Promise((resolve) => setTimeout(resolve, sizePollMs));
    }
  } finally {
    client.close();
  }
}
