// Alarms and the backend quota, side by side on etcd and cairn, both started
// with --quota-backend-bytes 1 MiB (quota.ts says why the scenario fills it
// with one 600 KiB value). The tests run in order on one server pair and
// each leaves no alarm raised.
//
// Cases left out because etcd 3.4 breaks on them (cairn answers them, see
// docs/alarms.md): ACTIVATE of alarm NONE for member 0 (etcd panics storing
// an empty key), an unknown action (etcd panics), writes while NOSPACE and
// CORRUPT are both raised (etcd's refusals then depend on which came last),
// and a nested txn that puts under NOSPACE (etcd 3.4 lets it through; cairn
// refuses it, as etcd does since it fixed this after 3.6.0).
import { expect } from 'chai';
import {
  AlarmRequest,
  AlarmRequest_AlarmAction,
  AlarmType,
  LeaseGrantRequest,
  LeaseRevokeRequest,
  RangeRequest,
  RequestOp,
  StatusRequest,
  TxnRequest,
  type AlarmMember,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { etcdctl } from '../harness/etcdctl.js';
import { freePort, startCairn, startEtcd, etcdAvailable, type ServerHandle, type ServerKind } from '../harness/launcher.js';
import { headerRevision, normaliseRun, type NormalisedRun } from './normalise.js';
import { compatPair, type CompatPair, type PairSide } from './pair.js';
import { bigValue, bigValueBytes, quotaArgs, waitBackendSize } from './quota.js';
import { alarmRaw, leaseGrantRaw, leaseRevokeRaw, responseOf, statusRaw, txnRaw, type Clients } from './rpc.js';

const { GET, ACTIVATE, DEACTIVATE } = AlarmRequest_AlarmAction;
const { NONE, NOSPACE, CORRUPT } = AlarmType;
/** A member ID no server has: etcd, like cairn, takes any ID in an Alarm request. */
const someMember = 1234n;
const noSpace = 'Error: etcdserver: mvcc: database space exceeded';
const corrupt = 'Error: etcdserver: corrupt cluster';
const restartMsMax = 60_000;

const alarm = (action: AlarmRequest_AlarmAction, type: AlarmType, memberID = 0n) => (clients: Clients) =>
  alarmRaw(clients, AlarmRequest.fromPartial({ action, alarm: type, memberID }));
const b = (text: string): Buffer => Buffer.from(text);
const readOnlyTxn = TxnRequest.fromPartial({ success: [RequestOp.fromPartial({ requestRange: RangeRequest.fromPartial({ key: b('alarm/a') }) })] });
const deletingTxn = TxnRequest.fromPartial({ success: [RequestOp.fromPartial({ requestDeleteRange: { key: b('alarm/none') } })] });
/** A txn that takes its success branch (a read) but could have put: etcd weighs the costlier branch. */
const mayPutTxn = TxnRequest.fromPartial({
  success: [RequestOp.fromPartial({ requestRange: RangeRequest.fromPartial({ key: b('alarm/a') }) })],
  failure: [RequestOp.fromPartial({ requestPut: { key: b('alarm/t'), value: b('v') } })],
});
/** etcdctl txn's stdin: no compares, one put, no failure ops. */
const putTxnInput = '\nput alarm/t v\n\n\n';

/** The alarms `type` lists, sorted: etcd answers in Go map order, which varies from call to call. */
async function listedAlarms(side: PairSide, type: AlarmType): Promise<Array<{ memberID: string; alarm: number }>> {
  const response = responseOf(await alarm(GET, type)(side.clients), `Alarm GET on ${side.name}`);
  expect(response.header, `${side.name}: etcd 3.4 answers Alarm without a header`).to.equal(undefined);
  const byMember = (a: AlarmMember, z: AlarmMember): number => a.alarm - z.alarm || Number(a.memberID - z.memberID);
  return [...response.alarms].sort(byMember).map((raised) => ({ memberID: raised.memberID.toString(), alarm: raised.alarm }));
}

/** On each server, `alarm list` names the server itself: the member that refused the put raised the alarm. */
async function alarmNamesItsMember(pair: CompatPair): Promise<void> {
  await pair.both(async (side) => {
    const status = responseOf(await statusRaw(side.clients, StatusRequest.fromPartial({})), `Status on ${side.name}`);
    const list = await etcdctl(side.server.endpoint, ['alarm', 'list']);
    expect(list.stdout, side.name).to.equal(`memberID:${status.header?.memberId} alarm:NOSPACE \n`);
  });
}

describe('compat: alarms and the backend quota', function () {
  const pair = compatPair({ args: quotaArgs });

  it('Alarm by hand: ACTIVATE, GET with and without a type, DEACTIVATE, answered without a header', async () => {
    await pair.raw(alarm(GET, NONE));
    const notRaised = await pair.raw(alarm(DEACTIVATE, NOSPACE, 5n));
    expect(notRaised.ok && notRaised.response.alarms).to.deep.equal([]);
    const raised = await pair.raw(alarm(ACTIVATE, CORRUPT, someMember));
    expect(raised.ok && raised.response.header).to.equal(undefined);
    await pair.raw(alarm(ACTIVATE, CORRUPT, someMember)); // raised already: answers the same alarm
    await pair.raw(alarm(ACTIVATE, NOSPACE, someMember));
    await pair.raw(alarm(ACTIVATE, NONE, 7n)); // stored like any type
    const every = await pair.same('GET of every alarm', (side) => listedAlarms(side, NONE));
    expect(every).to.have.length(3);
    await pair.same('GET of NOSPACE', (side) => listedAlarms(side, NOSPACE));
    await pair.raw(alarm(GET, CORRUPT, 99n)); // GET ignores the member ID
    await pair.raw(alarm(DEACTIVATE, CORRUPT, 1n)); // not this member's: none cleared
    await pair.raw(alarm(DEACTIVATE, NONE, 7n));
    await pair.raw(alarm(DEACTIVATE, CORRUPT, someMember));
    await pair.raw(alarm(DEACTIVATE, NOSPACE, someMember));
    const none = await pair.raw(alarm(GET, NONE));
    expect(none.ok && none.response.alarms).to.deep.equal([]);
  });

  it('CORRUPT refuses every write; reads and read-only txns go on; disarm lifts it', async () => {
    const revision = await pair.put('alarm/a', '1');
    await pair.raw(alarm(ACTIVATE, CORRUPT, someMember));
    expect((await pair.etcdctl(['put', 'alarm/a', '2'])).stderr).to.include(corrupt);
    await pair.etcdctl(['del', 'alarm/a']);
    await pair.etcdctl(['compaction', String(revision)]);
    await pair.raw((clients) => txnRaw(clients, deletingTxn));
    await pair.raw((clients) => leaseGrantRaw(clients, LeaseGrantRequest.fromPartial({ ID: 77n, TTL: 60n })));
    await pair.raw((clients) => leaseRevokeRaw(clients, LeaseRevokeRequest.fromPartial({ ID: 77n })));
    expect((await pair.etcdctl(['get', 'alarm/a', '-w', 'json'])).code).to.equal(0);
    await pair.raw((clients) => txnRaw(clients, readOnlyTxn));
    expect((await pair.etcdctl(['alarm', 'list'])).stdout).to.equal(`memberID:${someMember} alarm:CORRUPT \n`);
    await pair.etcdctl(['endpoint', 'status']);
    await pair.etcdctl(['alarm', 'disarm']);
    await pair.etcdctl(['alarm', 'list']);
    expect((await pair.etcdctl(['put', 'alarm/a', '2'])).code).to.equal(0);
  });

  it('NOSPACE by hand refuses puts, txns that may put and lease grants; deletes, compaction, reads and revokes go on', async () => {
    await pair.raw((clients) => leaseGrantRaw(clients, LeaseGrantRequest.fromPartial({ ID: 88n, TTL: 60n })));
    const revision = await pair.put('alarm/b', '1');
    await pair.raw(alarm(ACTIVATE, NOSPACE, someMember));
    expect((await pair.etcdctl(['put', 'alarm/b', '2'])).stderr).to.include(noSpace);
    await pair.etcdctl(['txn'], { stdin: putTxnInput });
    await pair.raw((clients) => txnRaw(clients, mayPutTxn));
    await pair.etcdctl(['lease', 'grant', '60']);
    // etcd 3.4 checks a lease's TTL when it applies the grant: the alarm answers first.
    await pair.raw((clients) => leaseGrantRaw(clients, LeaseGrantRequest.fromPartial({ ID: 89n, TTL: 9_000_000_001n })));
    await pair.raw((clients) => txnRaw(clients, deletingTxn));
    await pair.raw((clients) => leaseRevokeRaw(clients, LeaseRevokeRequest.fromPartial({ ID: 88n })));
    await pair.etcdctl(['del', 'alarm/b']);
    await pair.etcdctl(['compaction', String(revision)]);
    await pair.etcdctl(['get', 'alarm/', '--prefix', '-w', 'json']);
    await pair.raw(alarm(DEACTIVATE, NOSPACE, someMember));
    expect((await pair.etcdctl(['put', 'alarm/b', '3'])).code).to.equal(0);
  });

  it('etcdctl: a put that does not fit raises NOSPACE; compaction, defrag and disarm make room again', async () => {
    expect((await pair.etcdctl(['put', 'quota/1'], { stdin: bigValue })).stdout).to.equal('OK\n');
    await pair.both((side) => waitBackendSize(side.server.endpoint, bigValueBytes));
    const refused = await pair.etcdctl(['put', 'quota/2'], { stdin: bigValue });
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include(noSpace);
    expect((await pair.etcdctl(['alarm', 'list'])).stdout).to.match(/^memberID:\d+ alarm:NOSPACE \n$/);
    await alarmNamesItsMember(pair);
    await pair.etcdctl(['alarm', 'list', '-w', 'json']);
    await pair.etcdctl(['endpoint', 'status']);
    // Small enough to fit, refused because the alarm is raised.
    expect((await pair.etcdctl(['put', 'quota/small', 'v'])).stderr).to.include(noSpace);
    await pair.etcdctl(['txn'], { stdin: putTxnInput });
    expect((await pair.etcdctl(['lease', 'grant', '60'])).stderr).to.include('Error: failed to grant lease (etcdserver: mvcc: database space exceeded)');
    expect((await pair.etcdctl(['get', 'quota/', '--prefix', '--keys-only'])).stdout).to.equal('quota/1\n\n');
    expect((await pair.etcdctl(['del', 'quota/1'])).stdout).to.equal('1\n');
    const revision = headerRevision((await pair.etcdctl(['get', 'quota/1', '-w', 'json'])).stdout);
    await pair.etcdctl(['compaction', String(revision)]);
    await pair.etcdctl(['defrag']);
    expect((await pair.etcdctl(['put', 'quota/small', 'v'])).stderr).to.include(noSpace);
    expect((await pair.etcdctl(['alarm', 'disarm'])).stdout).to.match(/^memberID:\d+ alarm:NOSPACE \n$/);
    expect((await pair.etcdctl(['alarm', 'list'])).stdout).to.equal('');
    expect((await pair.etcdctl(['put', 'quota/2'], { stdin: bigValue })).stdout).to.equal('OK\n');
    await pair.etcdctl(['put', 'quota/small', 'v']);
    await pair.etcdctl(['endpoint', 'status']);
  });
});

/**
 * Fills one server of `kind` until its quota raises NOSPACE, kills it (-9),
 * starts it again on the same data directory, and records what etcdctl
 * prints from then on, normalised.
 */
async function alarmAcrossRestart(kind: ServerKind): Promise<NormalisedRun[]> {
  const start = kind === 'etcd' ? startEtcd : startCairn;
  const port = await freePort();
  const peerPort = await freePort();
  const first = await start({ port, peerPort, args: quotaArgs });
  let second: ServerHandle | undefined;
  const transcript: NormalisedRun[] = [];
  const run = async (server: ServerHandle, args: string[], stdin?: string): Promise<void> => {
    transcript.push(normaliseRun(await etcdctl(server.endpoint, args, { stdin }), server.endpoint, args));
  };
  try {
    await run(first, ['put', 'restart/1'], bigValue);
    await waitBackendSize(first.endpoint, bigValueBytes);
    await run(first, ['put', 'restart/2'], bigValue);
    await first.kill9();
    second = await start({ dataDir: first.dataDir, port, peerPort, args: quotaArgs });
    await run(second, ['alarm', 'list']);
    await run(second, ['put', 'restart/small', 'v']);
    await run(second, ['alarm', 'disarm']);
    await run(second, ['put', 'restart/small', 'v']);
    await run(second, ['get', 'restart/', '--prefix', '--keys-only']);
    return transcript;
  } finally {
    await second?.destroy();
    await first.destroy();
  }
}

describe('compat: a raised alarm survives kill -9 and a restart', function () {
  this.timeout(restartMsMax);

  before(function () {
    if (!etcdAvailable()) this.skip();
  });

  it('lists the alarm and refuses writes after the restart, as etcd does, until disarmed', async () => {
    const [etcd, cairn] = await Promise.all([alarmAcrossRestart('etcd'), alarmAcrossRestart('cairn')]);
    expect(etcd[1]?.stderr.at(-1)).to.equal(noSpace);
    expect(etcd[2]?.stdout).to.deep.equal(['memberID:<member> alarm:NOSPACE ']);
    expect(etcd[3]?.stderr.at(-1)).to.equal(noSpace);
    expect(cairn).to.deep.equal(etcd);
  });
});
