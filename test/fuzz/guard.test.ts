// The fuzzer's guard against legitimate damage (refusal in target.ts) and
// the arbitraries it backs: no server needed.
import { expect } from 'chai';
import fc from 'fast-check';
import { AlarmRequest, MemberAddRequest, MemberRemoveRequest, MemberUpdateRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { structuredCall } from './arbitraries.js';
import { callJson, type FuzzCall } from './calls.js';
import { couldBeValidPeerUrl, type TargetFacts } from './service-requests.js';
import { refusal } from './target.js';

const facts: TargetFacts = { memberIds: [0x1an, 0x2bn, 0x3cn], peerUrls: [['http://127.0.0.1:2380'], ['http://127.0.0.1:2381'], ['http://127.0.0.1:2382']] };

function unary(method: 'Maintenance.Alarm' | 'Cluster.MemberAdd' | 'Cluster.MemberUpdate' | 'Cluster.MemberRemove', request: object): FuzzCall {
  return { kind: 'unary', method, request };
}

describe('fuzz: the guard', () => {
  it('takes every URL etcd could accept as possibly valid, and what it cannot as not', () => {
    for (const url of ['http://127.0.0.1:2380', ' https://node-1:1 ', 'HTTP://x:65535', 'http://[::1]:2380']) expect(couldBeValidPeerUrl(url), url).to.equal(true);
    for (const url of ['http://127.0.0.1:99999', 'http://127.0.0.1', 'http://127.0.0.1:2380/', 'ftp://h:1', '127.0.0.1:2380', '', 'http://h:-1']) expect(couldBeValidPeerUrl(url), url).to.equal(false);
  });

  it('refuses what would change the target legitimately, and nothing else', () => {
    expect(refusal(unary('Maintenance.Alarm', AlarmRequest.fromPartial({ action: 1, alarm: 1 })), facts)).to.be.a('string');
    expect(refusal(unary('Maintenance.Alarm', AlarmRequest.fromPartial({ action: 1, alarm: 2 })), facts)).to.be.a('string');
    expect(refusal(unary('Maintenance.Alarm', AlarmRequest.fromPartial({ action: 1, alarm: 0 })), facts)).to.equal(undefined);
    expect(refusal(unary('Cluster.MemberAdd', MemberAddRequest.fromPartial({ peerURLs: ['http://127.0.0.1:9'] })), facts)).to.be.a('string');
    expect(refusal(unary('Cluster.MemberAdd', MemberAddRequest.fromPartial({ peerURLs: [' http://127.0.0.1:2380 '] })), facts)).to.equal(undefined);
    expect(refusal(unary('Cluster.MemberUpdate', MemberUpdateRequest.fromPartial({ ID: 0x1an, peerURLs: ['http://127.0.0.1:9'] })), facts)).to.be.a('string');
    expect(refusal(unary('Cluster.MemberUpdate', MemberUpdateRequest.fromPartial({ ID: 0x99n, peerURLs: ['http://127.0.0.1:9'] })), facts)).to.equal(undefined);
    // Its own URL twice is a real change of its URL list (etcd stores it); exactly its own URLs is a no-op.
    expect(refusal(unary('Cluster.MemberUpdate', MemberUpdateRequest.fromPartial({ ID: 0x1an, peerURLs: ['http://127.0.0.1:2380', 'http://127.0.0.1:2380'] })), facts)).to.be.a('string');
    expect(refusal(unary('Cluster.MemberUpdate', MemberUpdateRequest.fromPartial({ ID: 0x1an, peerURLs: ['http://127.0.0.1:2380'] })), facts)).to.equal(undefined);
    expect(refusal(unary('Cluster.MemberUpdate', MemberUpdateRequest.fromPartial({ ID: 0x1an, peerURLs: ['http://127.0.0.1:2381'] })), facts)).to.equal(undefined);
    expect(refusal(unary('Cluster.MemberRemove', MemberRemoveRequest.fromPartial({ ID: 0x2bn })), facts)).to.be.a('string');
    expect(refusal(unary('Cluster.MemberRemove', MemberRemoveRequest.fromPartial({ ID: 0x2cn })), facts)).to.equal(undefined);
  });

  it('checks garbage as what it decodes to', () => {
    const removeReal = Buffer.from(MemberRemoveRequest.encode({ ID: 0x2bn }).finish());
    expect(refusal({ kind: 'garbage', method: 'Cluster.MemberRemove', body: removeReal }, facts)).to.be.a('string');
    expect(refusal({ kind: 'garbage', method: 'Cluster.MemberRemove', body: Buffer.from([0x0e]) }, facts)).to.equal(undefined);
  });

  it('is never needed by the generated requests', () => {
    fc.assert(
      fc.property(structuredCall(facts), (call) => {
        expect(refusal(call, facts), callJson(call)).to.equal(undefined);
      }),
      { numRuns: 2_000 },
    );
  });
});
