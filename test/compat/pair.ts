// A pair of servers for differential tests: one real etcd and one cairn,
// started once per describe block. Every command runs on both; the test
// passes only when cairn answers what etcd answers (see normalise.ts for the
// few fields that may differ).
//
// Usage, inside a describe block:
//
//   const pair = compatPair();
//   it('gets a prefix', async () => {
//     await pair.put('get/a', '1');
//     await pair.etcdctl(['get', 'get/', '--prefix']);
//   });
//
// COMPAT_BOTH_ETCD=1 starts etcd on the "cairn" side too: the suite must then
// pass, which checks the tests and the normalisation themselves.
import { expect } from 'chai';
import { credentials, status, type ChannelCredentials } from '@grpc/grpc-js';
import { DeleteRangeRequest, KVClient, LeaseClient, MaintenanceClient, PutRequest, WatchClient } from '../../proto/gen/etcdserverpb/rpc.js';
import { ElectionClient } from '../../proto/gen/v3electionpb/v3election.js';
import { LockClient } from '../../proto/gen/v3lockpb/v3lock.js';
import { etcdctl, type EtcdctlOptions, type EtcdctlResult } from '../harness/etcdctl.js';
import { etcdAvailable, probeCredentials, startCairn, startEtcd, type ServerHandle, type ServerTls, type StartOptions } from '../harness/launcher.js';
import { normaliseMessage, normaliseRun } from './normalise.js';
import { deleteRangeRaw, putRaw, type Clients, type Outcome } from './rpc.js';

const startTimeoutMs = 45_000;

/** A raw gRPC call, given the clients of one server. */
export type RawCall<T> = (clients: Clients) => Promise<Outcome<T>>;

/** Which server of the pair: "cairn" names the second one even under COMPAT_BOTH_ETCD=1. */
export type SideName = 'etcd' | 'cairn';

/** One server of the pair, for a scenario that runs on each side by itself. */
export interface PairSide {
  readonly name: SideName;
  readonly server: ServerHandle;
  readonly clients: Clients;
}

export interface CompatPair {
  readonly etcd: ServerHandle;
  readonly cairn: ServerHandle;
  /**
   * Runs etcdctl with `args` on both servers and asserts that the normalised
   * exit code, stdout and stderr are equal. Returns etcd's raw result, so the
   * test can also check that the scenario does what it means to (on etcd).
   */
  etcdctl(args: string[], options?: EtcdctlOptions): Promise<EtcdctlResult>;
  /**
   * Makes the same raw gRPC call on both servers and asserts that the
   * normalised outcomes (response, or gRPC code + message) are equal.
   * Returns etcd's outcome.
   */
  raw<T>(call: RawCall<T>): Promise<Outcome<T>>;
  /** Puts key=value on both servers (a setup write); asserts the same answer on both; returns its revision. */
  put(key: string, value: string): Promise<bigint>;
  /** Puts each entry in order, on both servers; returns the revision of the last one. */
  putAll(entries: ReadonlyArray<readonly [string, string]>): Promise<bigint>;
  /** Deletes [key, rangeEnd) on both servers (a setup write); asserts the same answer on both. */
  del(key: string, rangeEnd?: string): Promise<void>;
  /**
   * Runs `scenario` on both servers at once and returns [etcd's result,
   * cairn's result]; asserts nothing. For scenarios whose steps depend on
   * what the server answered (a lease ID it chose, a stream it holds open).
   */
  both<T>(scenario: (side: PairSide) => Promise<T>): Promise<[T, T]>;
  /**
   * Runs `scenario` on both servers at once and asserts that the two results
   * (already normalised by the scenario) are deeply equal. Returns etcd's.
   */
  same<T>(what: string, scenario: (side: PairSide) => Promise<T>): Promise<T>;
}

export interface CompatPairOptions {
  /** Extra flags given to both servers (flags are the same on both: `--max-txn-ops 4`). */
  args?: string[];
  /** Environment variables of both servers (`ETCD_MAX_TXN_OPS`). */
  env?: Record<string, string>;
  /**
   * Serve clients over TLS (the same certificates on both); the raw clients
   * then trust the probe's CA, and `etcdctl()` needs `--cacert` in its args.
   * A function, because certificates are made in a before hook of the
   * caller's, which runs before the pair starts.
   */
  tls?: () => ServerTls;
}

interface Side {
  server: ServerHandle;
  clients: Clients;
}

/** Registers before/after hooks that start and destroy one etcd and one cairn. */
export function compatPair(options: CompatPairOptions = {}): CompatPair {
  let etcdSide: Side | undefined;
  let cairnSide: Side | undefined;

  before(async function () {
    if (!etcdAvailable()) this.skip();
    this.timeout(startTimeoutMs);
    const tls = options.tls?.();
    const startOptions: StartOptions = {
      args: options.args ?? [],
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(tls === undefined ? {} : { tls }),
    };
    const bothEtcd = process.env.COMPAT_BOTH_ETCD === '1';
    const [etcd, cairn] = await Promise.allSettled([
      startEtcd(startOptions),
      bothEtcd ? startEtcd(startOptions) : startCairn(startOptions),
    ]);
    const channel = tls === undefined ? credentials.createInsecure() : probeCredentials(tls);
    if (etcd.status === 'fulfilled') etcdSide = side(etcd.value, channel);
    if (cairn.status === 'fulfilled') cairnSide = side(cairn.value, channel);
    if (etcd.status === 'rejected') throw etcd.reason;
    if (cairn.status === 'rejected') throw cairn.reason;
  });

  after(async function () {
    this.timeout(startTimeoutMs);
    for (const current of [etcdSide, cairnSide]) {
      if (current === undefined) continue;
      for (const client of Object.values(current.clients)) client.close();
      await current.server.destroy();
    }
    etcdSide = cairnSide = undefined;
  });

  const sides = (): [Side, Side] => {
    if (etcdSide === undefined || cairnSide === undefined) throw new Error('the server pair is not running');
    return [etcdSide, cairnSide];
  };

  const pair: CompatPair = {
    get etcd() {
      return sides()[0].server;
    },
    get cairn() {
      return sides()[1].server;
    },
    async etcdctl(args, runOptions) {
      const [etcd, cairn] = sides();
      const [etcdResult, cairnResult] = await Promise.all([
        etcdctl(etcd.server.endpoint, args, runOptions),
        etcdctl(cairn.server.endpoint, args, runOptions),
      ]);
      const expected = normaliseRun(etcdResult, etcd.server.endpoint, args);
      const actual = normaliseRun(cairnResult, cairn.server.endpoint, args);
      expect(actual, `etcdctl ${args.join(' ')}${describeStdin(runOptions)}: cairn (actual) vs etcd (expected)`)
        .to.deep.equal(expected);
      return etcdResult;
    },
    async raw<T>(call: RawCall<T>) {
      const [etcd, cairn] = sides();
      const [etcdOutcome, cairnOutcome] = await Promise.all([call(etcd.clients), call(cairn.clients)]);
      expect(normaliseOutcome(cairnOutcome), 'raw gRPC call: cairn (actual) vs etcd (expected)')
        .to.deep.equal(normaliseOutcome(etcdOutcome));
      return etcdOutcome;
    },
    async put(key, value) {
      const outcome = await pair.raw((clients) => putRaw(clients, PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from(value) })));
      if (!outcome.ok) throw new Error(`setup put ${key} failed on etcd: ${outcome.details}`);
      return outcome.response.header?.revision ?? 0n;
    },
    async putAll(entries) {
      let revision = 0n;
      for (const [key, value] of entries) revision = await pair.put(key, value);
      return revision;
    },
    async del(key, rangeEnd) {
      const request = DeleteRangeRequest.fromPartial({ key: Buffer.from(key), rangeEnd: rangeEnd === undefined ? undefined : Buffer.from(rangeEnd) });
      const outcome = await pair.raw((clients) => deleteRangeRaw(clients, request));
      if (!outcome.ok) throw new Error(`setup delete ${key} failed on etcd: ${outcome.details}`);
    },
    async both<T>(scenario: (side: PairSide) => Promise<T>): Promise<[T, T]> {
      const [etcd, cairn] = sides();
      return Promise.all([
        scenario({ name: 'etcd', server: etcd.server, clients: etcd.clients }),
        scenario({ name: 'cairn', server: cairn.server, clients: cairn.clients }),
      ]);
    },
    async same<T>(what: string, scenario: (side: PairSide) => Promise<T>): Promise<T> {
      const [etcd, cairn] = await pair.both(scenario);
      expect(cairn, `${what}: cairn (actual) vs etcd (expected)`).to.deep.equal(etcd);
      return etcd;
    },
  };
  return pair;
}

function side(server: ServerHandle, channel: ChannelCredentials): Side {
  const clients: Clients = {
    kv: new KVClient(server.endpoint, channel),
    maintenance: new MaintenanceClient(server.endpoint, channel),
    lease: new LeaseClient(server.endpoint, channel),
    watch: new WatchClient(server.endpoint, channel),
    lock: new LockClient(server.endpoint, channel),
    election: new ElectionClient(server.endpoint, channel),
  };
  return { server, clients };
}

function describeStdin(options: EtcdctlOptions | undefined): string {
  return options?.stdin === undefined ? '' : ` <<< ${JSON.stringify(options.stdin)}`;
}

/** An Outcome as plain data: the normalised response, or the gRPC code name and message. */
export function normaliseOutcome(outcome: Outcome<unknown>): unknown {
  if (outcome.ok) return { response: normaliseMessage(outcome.response) };
  return { error: { code: status[outcome.code] ?? outcome.code, details: outcome.details } };
}
