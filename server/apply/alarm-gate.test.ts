import { expect } from 'chai';
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import { AlarmRequest_AlarmAction, AlarmType, RangeRequest, RequestOp, TxnRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { AlarmSet } from '../alarm/alarms.js';
import { CorruptError, NoSpaceError } from '../alarm/errors.js';
import { openTempStore, type TempStore } from '../testing/temp-store.js';
import { openAuthStore } from '../testing/auth.js';
import { Applier, type ApplyResult } from './applier.js';

const b = (text: string): Buffer => Buffer.from(text);
const putOp = (key: string): RequestOp => RequestOp.fromPartial({ requestPut: { key: b(key), value: b('v') } });
const rangeOp = (key: string): RequestOp => RequestOp.fromPartial({ requestRange: RangeRequest.fromPartial({ key: b(key) }) });
const deleteOp = (key: string): RequestOp => RequestOp.fromPartial({ requestDeleteRange: { key: b(key) } });
const txn = (success: RequestOp[], failure: RequestOp[] = []): Partial<InternalRequest> => ({ txn: TxnRequest.fromPartial({ success, failure }) });

/** The requests each alarm's refusals are checked on; the lease 7 exists. */
const requests = {
  put: { put: { key: b('k'), value: b('v'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } },
  deleteRange: { deleteRange: { key: b('k'), rangeEnd: Buffer.alloc(0), prevKv: false } },
  readOnlyTxn: txn([rangeOp('k')]),
  deletingTxn: txn([deleteOp('k')]),
  mayPutTxn: txn([rangeOp('k')], [putOp('other')]),
  nestedPutTxn: txn([RequestOp.fromPartial({ requestTxn: TxnRequest.fromPartial({ success: [putOp('nested')] }) })]),
  nestedReadTxn: txn([RequestOp.fromPartial({ requestTxn: TxnRequest.fromPartial({ success: [rangeOp('k')] }) })]),
  compaction: { compaction: { revision: 1n, physical: false } },
  leaseGrant: { leaseGrant: { ID: 8n, TTL: 60n } },
  leaseRevoke: { leaseRevoke: { ID: 7n } },
} satisfies Record<string, Partial<InternalRequest>>;
type RequestName = keyof typeof requests;

describe('alarm gate: what applying refuses under a raised alarm', () => {
  let temp: TempStore;
  let alarms: AlarmSet;
  let applier: Applier;
  const leases = new Set<bigint>();

  const apply = (request: Partial<InternalRequest>): ApplyResult => temp.backend.transaction(() => applier.apply(InternalRequest.fromPartial(request), 1));
  const raise = (type: AlarmType, action = AlarmRequest_AlarmAction.ACTIVATE): void => {
    const result = apply({ alarm: { action, memberID: 1n, alarm: type } });
    expect(result.ok).to.equal(true);
  };
  /** The names of the requests refused with `type`, each applied on its own. */
  const refusedWith = (type: new () => Error): RequestName[] => {
    const refused: RequestName[] = [];
    for (const name of Object.keys(requests) as RequestName[]) {
      leases.clear();
      leases.add(7n);
      const result = apply(requests[name]);
      if (!result.ok && result.error instanceof type) refused.push(name);
      else if (!result.ok) throw new Error(`${name} failed with ${result.error.name}`);
    }
    return refused;
  };

  beforeEach(() => {
    temp = openTempStore();
    alarms = new AlarmSet(temp.backend);
    applier = new Applier(
      temp.store,
      { exists: (id) => leases.has(id), grant: (id) => (leases.add(id), { ttlSeconds: 60n }), revoke: (id) => void leases.delete(id), track: () => undefined, keysOf: () => [] },
      alarms,
      openAuthStore(temp.backend),
    );
  });

  afterEach(async () => {
    await temp.remove();
  });

  it('refuses nothing while no alarm is raised', () => {
    expect(refusedWith(NoSpaceError)).to.deep.equal([]);
  });

  it('NOSPACE refuses what may add data (nested puts too), and leaves the store unchanged', () => {
    raise(AlarmType.NOSPACE);
    const revision = temp.store.currentRevision;
    expect(refusedWith(NoSpaceError)).to.deep.equal(['put', 'mayPutTxn', 'nestedPutTxn', 'leaseGrant']);
    expect(temp.store.currentRevision, 'only the deletes wrote (nothing to delete)').to.equal(revision);
    expect(leases.has(8n)).to.equal(false);
  });

  it('CORRUPT refuses every write but a txn whose top-level ops are all reads', () => {
    raise(AlarmType.CORRUPT);
    expect(refusedWith(CorruptError)).to.deep.equal(['put', 'deleteRange', 'deletingTxn', 'mayPutTxn', 'nestedPutTxn', 'nestedReadTxn', 'compaction', 'leaseGrant', 'leaseRevoke']);
  });

  it('CORRUPT answers first when both are raised', () => {
    raise(AlarmType.NOSPACE);
    raise(AlarmType.CORRUPT);
    expect(refusedWith(CorruptError)).to.have.length(9);
    raise(AlarmType.CORRUPT, AlarmRequest_AlarmAction.DEACTIVATE);
    expect(refusedWith(NoSpaceError), 'NOSPACE is still raised').to.have.length(4);
  });

  it('applies Alarm requests whatever is raised, and a disarm lifts the refusals', () => {
    raise(AlarmType.CORRUPT);
    raise(AlarmType.NOSPACE);
    raise(AlarmType.CORRUPT, AlarmRequest_AlarmAction.DEACTIVATE);
    raise(AlarmType.NOSPACE, AlarmRequest_AlarmAction.DEACTIVATE);
    expect(refusedWith(NoSpaceError)).to.deep.equal([]);
    expect(apply(requests.put).ok).to.equal(true);
  });
});
