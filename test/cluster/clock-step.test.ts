// Lease deadlines follow a monotonic clock: a step of the wall clock (NTP
// correcting a drifted host, an operator setting the date) neither expires a
// live lease early nor keeps a lapsed one alive. The server runs under
// libfaketime, whose offset is read from a file on every call, so the test
// steps the server's wall clock by an hour while it runs. (etcd reads Go's
// monotonic clock too, but Go calls the vDSO directly, past libfaketime, so
// there is nothing to compare it with here.)
import { expect } from 'chai';
import { credentials, Metadata } from '@grpc/grpc-js';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KVClient,
  LeaseClient,
  LeaseGrantRequest,
  LeaseTimeToLiveRequest,
  PutRequest,
  RangeRequest,
  type LeaseTimeToLiveResponse,
  type RangeResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { startCairn, type ServerHandle } from '../harness/launcher.js';

const libfaketime = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const hourSeconds = 3_600;
/** Longer than the server's lease check interval (500 ms), so an expiry it would wrongly decide has happened. */
const afterStepMs = 2_000;

function callback<T>(resolve: (value: T) => void, reject: (error: Error) => void) {
  return (error: Error | null, response?: T) => (error === null ? resolve(response as T) : reject(error));
}

describe('cairn: a wall-clock step changes no lease', function () {
  this.timeout(60_000);
  let directory = '';
  let offsetFile = '';
  let server: ServerHandle | undefined;
  let leases: LeaseClient;
  let kv: KVClient;

  const grant = (ID: bigint, TTL: bigint) =>
    new Promise<void>((resolve, reject) => leases.leaseGrant(LeaseGrantRequest.fromPartial({ ID, TTL }), new Metadata(), callback(() => resolve(), reject)));
  const timeToLive = (ID: bigint) =>
    new Promise<LeaseTimeToLiveResponse>((resolve, reject) => leases.leaseTimeToLive(LeaseTimeToLiveRequest.fromPartial({ ID }), new Metadata(), callback(resolve, reject)));
  const put = (key: string, lease: bigint) =>
    new Promise<void>((resolve, reject) => kv.put(PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from('v'), lease }), new Metadata(), callback(() => resolve(), reject)));
  const get = (key: string) =>
    new Promise<RangeResponse>((resolve, reject) => kv.range(RangeRequest.fromPartial({ key: Buffer.from(key) }), new Metadata(), callback(resolve, reject)));
  /** Sets the server's wall clock `seconds` away from the real one. */
  const stepWallClock = (seconds: number) => writeFileSync(offsetFile, `${seconds >= 0 ? '+' : ''}${seconds}\n`);

  before(async function () {
    if (!existsSync(libfaketime)) {
      const why = 'libfaketime is not installed (apt-get install -y faketime)';
      if (process.env.CI === 'true') throw new Error(`${why}; CI must have it`);
      console.warn(`    skipped: ${why}`);
      return this.skip();
    }
    directory = mkdtempSync(join(tmpdir(), 'cairn-clock-'));
    offsetFile = join(directory, 'offset');
    stepWallClock(0);
    server = await startCairn({
      env: { LD_PRELOAD: libfaketime, FAKETIME_TIMESTAMP_FILE: offsetFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    });
    leases = new LeaseClient(server.endpoint, credentials.createInsecure());
    kv = new KVClient(server.endpoint, credentials.createInsecure());
  });
  after(async () => {
    leases?.close();
    kv?.close();
    await server?.destroy();
    if (directory !== '') rmSync(directory, { recursive: true, force: true });
  });
  afterEach(() => {
    if (offsetFile !== '') stepWallClock(0);
  });

  it('a step forward by an hour does not expire a lease with 30 s to live', async () => {
    await grant(0x7101n, 30n);
    await put('clock/forward', 0x7101n);
    stepWallClock(hourSeconds);
    await new Promise((resolve) => setTimeout(resolve, afterStepMs));
    const ttl = await timeToLive(0x7101n);
    expect(Number(ttl.TTL), 'remaining TTL after the step').to.be.within(25, 30);
    expect((await get('clock/forward')).kvs).to.have.length(1);
  });

  it('a step back by an hour does not keep a lapsed lease alive', async () => {
    await grant(0x7102n, 3n);
    await put('clock/backward', 0x7102n);
    stepWallClock(-hourSeconds);
    await new Promise((resolve) => setTimeout(resolve, 3_000 + afterStepMs));
    expect(Number((await timeToLive(0x7102n)).TTL), 'the lease is gone').to.equal(-1);
    expect((await get('clock/backward')).kvs).to.have.length(0);
  });
});
