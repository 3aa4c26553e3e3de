import { expect } from 'chai';
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import { AlarmRequest_AlarmAction, AlarmType, PutRequest, TxnRequest, type Member } from '../../proto/gen/etcdserverpb/rpc.js';
import { encodeConfChangeContext } from '../membership/membership.js';
import { ConfChangeType, encodeConfChange, EntryType, type ConfChange } from '../raft/index.js';
import {
  checkProposedConfChange,
  checkProposedRequest,
  committedConfChange,
  committedRequest,
  CorruptEntryError,
  decodeConfChangeEntry,
  decodeRequest,
  EntryPayloadError,
} from './entry-payloads.js';

const limits = { txnOpsMax: 4, requestBytesMax: 1024 };
const encode = (request: Partial<InternalRequest>): Uint8Array => InternalRequest.encode(InternalRequest.fromPartial(request)).finish();
const put = (key: string): PutRequest => PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from('v') });

function nestedTxn(depth: number): TxnRequest {
  let txn = TxnRequest.fromPartial({ success: [{ requestPut: put('k') }] });
  for (let level = 1; level < depth; level++) txn = TxnRequest.fromPartial({ success: [{ requestTxn: txn }] });
  return txn;
}

function member(id: bigint, peerURLs = ['http://127.0.0.1:2380']): Member {
  return { ID: id, name: '', peerURLs, clientURLs: [], isLearner: false };
}

function confChange(cc: ConfChange): Uint8Array {
  return encodeConfChange(cc);
}

describe('entry payloads: a normal entry holds one request', () => {
  it('decodes a request asking for one thing', () => {
    expect(decodeRequest(encode({ id: 9n, put: put('a') })).put?.key.toString()).to.equal('a');
  });

  it('decodes an alarm request (a member proposes one when a write does not fit the quota)', () => {
    const alarm = decodeRequest(encode({ id: 10n, alarm: { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: 7n, alarm: AlarmType.NOSPACE } })).alarm;
    expect(alarm?.alarm).to.equal(AlarmType.NOSPACE);
  });

  it('refuses bytes that are not an InternalRequest, and one asking for nothing or for two things', () => {
    expect(() => decodeRequest(new Uint8Array([0xff, 0xff, 0xff]))).to.throw(EntryPayloadError, /not an InternalRequest/);
    expect(() => decodeRequest(encode({ id: 1n }))).to.throw(EntryPayloadError, /asking for 0 things/);
    expect(() => decodeRequest(encode({ id: 1n, put: put('a'), leaseRevoke: { ID: 5n } }))).to.throw(EntryPayloadError, /asking for 2 things/);
  });

  it('refuses txns nested deeper than the decoder goes (applying walks them recursively)', () => {
    expect(decodeRequest(encode({ txn: nestedTxn(40) })).txn).to.not.equal(undefined);
    expect(() => decodeRequest(encode({ txn: nestedTxn(60) }))).to.throw(EntryPayloadError, /recursion limit/);
  });

  it('checks a proposal from a peer as the API checks a client request', () => {
    const proposed = (request: Partial<InternalRequest>, from = 2): void => {
      const data = encode(request);
      checkProposedRequest(decodeRequest(data), data.length, from, limits);
    };
    expect(() => proposed({ put: put('a') })).to.not.throw();
    expect(() => proposed({ put: put('') })).to.throw(EntryPayloadError, /key is not provided/);
    expect(() => proposed({ deleteRange: { key: Buffer.alloc(0), rangeEnd: Buffer.alloc(0), prevKv: false } })).to.throw(EntryPayloadError, /key is not provided/);
    const tooMany = TxnRequest.fromPartial({ success: Array.from({ length: limits.txnOpsMax + 1 }, (_, i) => ({ requestPut: put(`k${i}`) })) });
    expect(() => proposed({ txn: tooMany })).to.throw(EntryPayloadError, /too many operations/);
    expect(() => proposed({ put: PutRequest.fromPartial({ key: Buffer.from('a'), value: Buffer.alloc(limits.requestBytesMax) }) })).to.throw(EntryPayloadError, /max-request-bytes/);
  });

  it('lets a member publish its own attributes only', () => {
    const data = encode({ memberAttributes: { memberId: 2n, name: 'm2', clientUrls: [] } });
    expect(() => checkProposedRequest(decodeRequest(data), data.length, 2, limits)).to.not.throw();
    expect(() => checkProposedRequest(decodeRequest(data), data.length, 3, limits)).to.throw(EntryPayloadError, /publishes the attributes of 2/);
  });

  it('stops the member on a committed entry it cannot decode, naming its index and term', () => {
    const entry = { type: EntryType.Normal, index: 42, term: 7, data: new Uint8Array([0xff, 0xff]) };
    expect(() => committedRequest(entry)).to.throw(CorruptEntryError, /committed entry at index 42 \(term 7\): not an InternalRequest/);
    expect(() => committedConfChange({ ...entry, type: EntryType.ConfChange })).to.throw(CorruptEntryError, /index 42 \(term 7\): not a ConfChange/);
  });
});

describe('entry payloads: a ConfChange entry', () => {
  const add = (id: number, with_: Member | undefined, type: ConfChange['type'] = ConfChangeType.AddNode): Uint8Array =>
    confChange({ type, nodeId: id, context: encodeConfChangeContext({ requestId: 1n, member: with_ }) });

  it('decodes a change and its context', () => {
    const { cc, context } = decodeConfChangeEntry(add(5, member(5n)));
    expect(cc).to.include({ type: ConfChangeType.AddNode, nodeId: 5 });
    expect(context.member?.ID).to.equal(5n);
  });

  it('refuses garbage, unknown types, bad member IDs and a context describing another member', () => {
    expect(() => decodeConfChangeEntry(new TextEncoder().encode('{not json'))).to.throw(EntryPayloadError, /not a ConfChange/);
    expect(() => decodeConfChangeEntry(confChange({ type: 'promote-everyone' as ConfChange['type'], nodeId: 5 }))).to.throw(EntryPayloadError, /unknown type/);
    expect(() => decodeConfChangeEntry(confChange({ type: ConfChangeType.RemoveNode, nodeId: -1 }))).to.throw(EntryPayloadError, /member -1/);
    expect(() => decodeConfChangeEntry(confChange({ type: ConfChangeType.RemoveNode, nodeId: 5, context: '{"requestId":"x"}' }))).to.throw(EntryPayloadError, /not a ConfChange/);
    expect(() => decodeConfChangeEntry(add(5, member(6n)))).to.throw(EntryPayloadError, /describing member 6/);
  });

  it('checks a change a peer proposed against the membership', () => {
    const members = new Map<bigint, Member>([[1n, member(1n)], [4n, { ...member(4n), isLearner: true }]]);
    const membership = { get: (id: bigint) => members.get(id), isRemoved: (id: bigint) => id === 9n, idOfNode: (nodeId: number) => [...members.keys(), 9n].find((id) => id === BigInt(nodeId)) };
    const check = (data: Uint8Array): void => checkProposedConfChange(decodeConfChangeEntry(data), membership);
    expect(() => check(add(5, member(5n)))).to.not.throw();
    expect(() => check(add(4, undefined))).to.not.throw(); // a promotion
    expect(() => check(confChange({ type: ConfChangeType.RemoveNode, nodeId: 1 }))).to.not.throw();
    expect(() => check(add(1, undefined))).to.throw(EntryPayloadError, /not a learner/);
    expect(() => check(add(7, undefined, ConfChangeType.AddLearner))).to.throw(EntryPayloadError, /without the member/);
    expect(() => check(add(1, member(1n)))).to.throw(EntryPayloadError, /is or was a member/);
    expect(() => check(add(9, member(9n)))).to.throw(EntryPayloadError, /is or was a member/);
    expect(() => check(add(5, member(5n, [])))).to.throw(EntryPayloadError, /without peer URLs/);
  });
});
