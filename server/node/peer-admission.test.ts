import { expect } from 'chai';
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import { PutRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { EntryType, message, MessageType, type Entry, type Message } from '../raft/index.js';
import { termCeiling } from '../transport/peer-checks.js';
import { admissionRefusal, type AdmissionParts, type CoreView } from './peer-admission.js';

const leader = 2;
const follower: CoreView = { term: 5, lead: leader, lastIndex: 100, isLearner: false };

function putData(key: string): Uint8Array {
  return InternalRequest.encode({ id: 1n, auth: undefined, put: PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from('v') }) }).finish();
}

function normal(index: number, term: number, data: Uint8Array): Entry {
  return { type: EntryType.Normal, index, term, data };
}

function parts(): AdmissionParts & { remembered: Map<Uint8Array, InternalRequest> } {
  const remembered = new Map<Uint8Array, InternalRequest>();
  return {
    remembered,
    membership: { get: () => undefined, isRemoved: () => false, idOfNode: () => undefined },
    limits: { txnOpsMax: 128, requestBytesMax: 1024 },
    remember: (data, request) => remembered.set(data, request),
  };
}

const from = (fields: Partial<Message> & { type: Message['type'] }): Message => message({ from: leader, to: 1, ...fields });

describe('peer admission: what needs the core\'s state', () => {
  it('refuses a term beyond the ceiling that is far ahead of the member\'s own', () => {
    expect(admissionRefusal(from({ type: MessageType.Heartbeat, term: termCeiling + 1 }), follower, parts())).to.match(/absurd/);
    expect(admissionRefusal(from({ type: MessageType.Heartbeat, term: 6 }), follower, parts())).to.equal(undefined);
  });

  it('refuses a heartbeat committing past the member\'s log, and an append response past the leader\'s', () => {
    expect(admissionRefusal(from({ type: MessageType.Heartbeat, term: 5, commit: 101 }), follower, parts())).to.match(/commit 101 is beyond/);
    expect(admissionRefusal(from({ type: MessageType.AppResp, term: 5, index: 101 }), follower, parts())).to.match(/index 101 is beyond/);
    expect(admissionRefusal(from({ type: MessageType.AppResp, term: 5, index: 100 }), follower, parts())).to.equal(undefined);
  });

  it('takes MsgTimeoutNow from the leader only, and vote responses only as a voter', () => {
    expect(admissionRefusal(from({ type: MessageType.TimeoutNow, term: 5 }), follower, parts())).to.equal(undefined);
    expect(admissionRefusal(message({ type: MessageType.TimeoutNow, from: 3, to: 1, term: 5 }), follower, parts())).to.match(/not the leader/);
    expect(admissionRefusal(from({ type: MessageType.VoteResp, term: 5 }), { ...follower, isLearner: true }, parts())).to.match(/learner/);
  });
});

describe('peer admission: entries', () => {
  it('decodes an append\'s requests once, and keeps them for applying', () => {
    const admission = parts();
    const data = putData('a');
    const append = from({ type: MessageType.App, term: 5, index: 100, logTerm: 5, entries: [normal(101, 5, data), normal(102, 5, new Uint8Array(0))] });
    expect(admissionRefusal(append, follower, admission)).to.equal(undefined);
    expect(admission.remembered.get(data)?.put?.key.toString()).to.equal('a');
    expect(admission.remembered.size).to.equal(1);
  });

  it('drops a whole append when one entry does not decode, and keeps nothing of it', () => {
    const admission = parts();
    const append = from({ type: MessageType.App, term: 5, index: 100, logTerm: 5, entries: [normal(101, 5, putData('a')), normal(102, 5, new Uint8Array([0xff, 0xff]))] });
    expect(admissionRefusal(append, follower, admission)).to.match(/entry 2 of 2 is refused: not an InternalRequest/);
    expect(admission.remembered.size).to.equal(0);
    const confChange = from({ type: MessageType.App, term: 5, index: 100, logTerm: 5, entries: [{ type: EntryType.ConfChange, index: 101, term: 5, data: new Uint8Array([1]) }] });
    expect(admissionRefusal(confChange, follower, admission)).to.match(/not a ConfChange/);
  });

  it('checks a forwarded proposal as a client request; a follower takes any request the leader accepted', () => {
    const emptyKey = InternalRequest.encode({ id: 1n, auth: undefined, put: PutRequest.fromPartial({ key: Buffer.alloc(0) }) }).finish();
    const proposal = from({ type: MessageType.Prop, entries: [normal(0, 0, emptyKey)] });
    expect(admissionRefusal(proposal, follower, parts())).to.match(/key is not provided/);
    const append = from({ type: MessageType.App, term: 5, index: 100, logTerm: 5, entries: [normal(101, 5, emptyKey)] });
    expect(admissionRefusal(append, follower, parts())).to.equal(undefined);
  });
});
