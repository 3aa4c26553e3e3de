import { expect } from 'chai';
import { EntryType, message, MessageType, type Entry, type Message } from '../raft/index.js';
import {
  appendBytesTarget,
  batchBytes,
  batchBytesTarget,
  contextBytesMax,
  indexMax,
  messageBytesMax,
  messageEntriesMax,
  messageRefusal,
  peerGrpcMessageBytesMax,
  snapshotMessageTypes,
  streamMessageTypes,
  termAcceptable,
  termCeiling,
  termLeadMax,
  termMax,
} from './peer-checks.js';

const self = 1;
const peer = 2;

function entry(index: number, term: number, data: Uint8Array = new Uint8Array(0)): Entry {
  return { type: EntryType.Normal, index, term, data };
}

function fromPeer(fields: Partial<Message> & { type: Message['type'] }): Message {
  return message({ from: peer, to: self, ...fields });
}

const onStream = (m: Message): string | undefined => messageRefusal(m, self, peer, streamMessageTypes);

describe('peer checks: what a peer may send', () => {
  it('lets through what a correct member sends', () => {
    expect(onStream(fromPeer({ type: MessageType.Heartbeat, term: 5, commit: 10 }))).to.equal(undefined);
    expect(onStream(fromPeer({ type: MessageType.App, term: 5, index: 10, logTerm: 4, commit: 12, entries: [entry(11, 4), entry(12, 5)] }))).to.equal(undefined);
    expect(onStream(fromPeer({ type: MessageType.App, term: 5, index: 10, logTerm: 5 }))).to.equal(undefined);
    expect(onStream(fromPeer({ type: MessageType.Prop, entries: [entry(0, 0, new Uint8Array([1]))] }))).to.equal(undefined);
    expect(onStream(fromPeer({ type: MessageType.PreVote, term: 6, index: 12, logTerm: 5 }))).to.equal(undefined);
    expect(onStream(fromPeer({ type: MessageType.AppResp, term: 5, index: 9, reject: true, rejectHint: 8, logTerm: 3 }))).to.equal(undefined);
    expect(onStream(fromPeer({ type: MessageType.ReadIndex, context: 'read-2-1' }))).to.equal(undefined);
  });

  it('refuses local-only types on the message stream, and a MsgSnap there (its data would be taken for a path)', () => {
    for (const type of [MessageType.Hup, MessageType.Beat, MessageType.CheckQuorum, MessageType.Unreachable, MessageType.SnapStatus, MessageType.Snap]) {
      expect(onStream(fromPeer({ type, term: 5 })), type).to.match(/may not come from a peer/);
    }
  });

  it('takes only a MsgSnap, with a snapshot, as the first chunk of a snapshot stream', () => {
    const snapshot = { data: new Uint8Array(0), metadata: { index: 100, term: 5, confState: { voters: [1, 2, 3], learners: [] } } };
    expect(messageRefusal(fromPeer({ type: MessageType.Snap, term: 5, snapshot }), self, peer, snapshotMessageTypes)).to.equal(undefined);
    expect(messageRefusal(fromPeer({ type: MessageType.Heartbeat, term: 5 }), self, peer, snapshotMessageTypes)).to.match(/may not come/);
    expect(messageRefusal(fromPeer({ type: MessageType.Snap, term: 5 }), self, peer, snapshotMessageTypes)).to.match(/without a snapshot/);
    const future = { ...snapshot, metadata: { ...snapshot.metadata, term: 6 } };
    expect(messageRefusal(fromPeer({ type: MessageType.Snap, term: 5, snapshot: future }), self, peer, snapshotMessageTypes)).to.match(/snapshot term 6/);
    const noVoters = { ...snapshot, metadata: { ...snapshot.metadata, confState: { voters: [], learners: [] } } };
    expect(messageRefusal(fromPeer({ type: MessageType.Snap, term: 5, snapshot: noVoters }), self, peer, snapshotMessageTypes)).to.match(/without voters/);
  });

  it('refuses a message from another sender than the stream\'s, or to another member', () => {
    expect(onStream(message({ type: MessageType.Heartbeat, from: 3, to: self, term: 5 }))).to.match(/claims to come from 3/);
    expect(onStream(message({ type: MessageType.Heartbeat, from: peer, to: 3, term: 5 }))).to.match(/addressed to 3/);
  });

  it('refuses numbers out of range', () => {
    expect(onStream(fromPeer({ type: MessageType.Heartbeat, term: termMax + 1 }))).to.match(/term .* is beyond/);
    expect(onStream(fromPeer({ type: MessageType.Vote, term: 5, index: 3, logTerm: 6 }))).to.match(/log term 6 is above/);
    expect(onStream(fromPeer({ type: MessageType.Heartbeat, term: 5, commit: indexMax + 1 }))).to.match(/beyond/);
    expect(onStream(fromPeer({ type: MessageType.AppResp, term: 5, rejectHint: indexMax + 1 }))).to.match(/beyond/);
    expect(onStream(fromPeer({ type: MessageType.ReadIndex, context: 'x'.repeat(contextBytesMax + 1) }))).to.match(/context/);
  });

  it('refuses entries where they do not belong, too many of them, or too many bytes', () => {
    expect(onStream(fromPeer({ type: MessageType.Heartbeat, term: 5, entries: [entry(1, 5)] }))).to.match(/carries entries/);
    const many = Array.from({ length: messageEntriesMax + 1 }, (_, i) => entry(11 + i, 5));
    expect(onStream(fromPeer({ type: MessageType.App, term: 5, index: 10, logTerm: 5, entries: many }))).to.match(/entries, more than/);
    const huge = entry(11, 5, new Uint8Array(messageBytesMax + 1));
    expect(onStream(fromPeer({ type: MessageType.App, term: 5, index: 10, logTerm: 5, entries: [huge] }))).to.match(/bytes of entries/);
  });

  it('refuses an append whose entries do not follow its index and log term', () => {
    const append = (index: number, logTerm: number, entries: Entry[]): Message => fromPeer({ type: MessageType.App, term: 5, index, logTerm, entries });
    // The core takes any index past its log as term 0: only index 0 may come with log term 0.
    expect(onStream(append(1_000, 0, []))).to.match(/index 1000 with log term 0/);
    expect(onStream(append(10, 5, [entry(12, 5)]))).to.match(/has index 12, not 11/);
    expect(onStream(append(10, 4, [entry(11, 3)]))).to.match(/term 3, outside/);
    expect(onStream(append(10, 4, [entry(11, 6)]))).to.match(/term 6, outside/);
    expect(onStream(append(10, 4, [entry(11, 5), entry(12, 4)]))).to.match(/term 4, outside/);
  });

  it('refuses a forwarded proposal whose entries already have an index or term', () => {
    expect(onStream(fromPeer({ type: MessageType.Prop, entries: [entry(7, 2, new Uint8Array([1]))] }))).to.match(/already has index 7/);
  });

  it('accepts terms up to the ceiling, and past it only close to its own', () => {
    expect(termAcceptable(termCeiling, 2)).to.equal(true);
    expect(termAcceptable(termCeiling + 1, 2)).to.equal(false);
    expect(termAcceptable(termCeiling + termLeadMax, termCeiling)).to.equal(true);
    expect(termAcceptable(termCeiling + termLeadMax + 1, termCeiling)).to.equal(false);
    expect(termAcceptable(termMax + 1, termMax)).to.equal(false);
    // The core adds one per election and asserts safe integers: the largest accepted term leaves room.
    expect(Number.isSafeInteger(termMax + termLeadMax + 1)).to.equal(true);
  });

  it('holds what a correct leader sends within its bounds, and a full batch within gRPC\'s', () => {
    const emptyEntries = Array.from({ length: Math.floor(appendBytesTarget / 24) }, (_, i) => entry(i + 1, 1));
    expect(emptyEntries.length).to.be.below(messageEntriesMax);
    const fullAppend = batchBytes(Array.from({ length: messageEntriesMax }, () => ({ data: new Uint8Array(0) })), 0) + messageBytesMax;
    expect(batchBytesTarget + fullAppend).to.be.below(peerGrpcMessageBytesMax);
  });
});
