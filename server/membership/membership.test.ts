import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backend } from '../mvcc/backend.js';
import { ConfChangeType } from '../raft/index.js';
import { MemberExistsError, MemberNotFoundError, MemberNotLearnerError, PeerUrlExistsError, TooManyLearnersError, MemberBadUrlsError } from './errors.js';
import { memberIdFor } from './ids.js';
import { InitialClusterError, parseInitialCluster } from './initial-cluster.js';
import { decodeConfChangeContext, encodeConfChangeContext, Membership } from './membership.js';

describe('parseInitialCluster', () => {
  it('groups the URLs of a name and derives each member ID', () => {
    const members = parseInitialCluster('a=http://127.0.0.1:1,b=http://127.0.0.1:2,a=http://127.0.0.1:3', 't');
    expect(members.map((member) => [member.name, member.peerUrls])).to.deep.equal([
      ['a', ['http://127.0.0.1:1', 'http://127.0.0.1:3']],
      ['b', ['http://127.0.0.1:2']],
    ]);
    expect(members[0]?.id).to.equal(memberIdFor(['http://127.0.0.1:1', 'http://127.0.0.1:3'], 't'));
  });

  for (const [value, message] of [
    ['', 'at least one member'],
    ['a', 'is not name=URL'],
    ['a=', 'is not name=URL'],
    ['a=nonsense', 'is not a URL'],
    ['a=ftp://127.0.0.1:1', 'must be http:// or https:// with a port'],
    ['a=http://127.0.0.1', 'must be http:// or https:// with a port'],
    ['a=http://127.0.0.1:1,b=http://127.0.0.1:1', 'share the peer URL'],
  ] as const) {
    it(`refuses "${value}" (${message})`, () => {
      expect(() => parseInitialCluster(value, 't')).to.throw(InitialClusterError, message);
    });
  }
});

describe('Membership', () => {
  let dir: string;
  let backend: Backend;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-membership-test-'));
    backend = new Backend(dir);
  });

  afterEach(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const member = (id: bigint, port: number, isLearner = false) => ({ ID: id, name: `m${id}`, peerURLs: [`http://127.0.0.1:${port}`], clientURLs: [], isLearner });
  const apply = (membership: Membership, type: ConfChangeType, id: bigint, port = 0, isLearner = false) =>
    backend.transaction(() => membership.applyConfChange({ type, nodeId: Number(id) }, port === 0 ? undefined : member(id, port, isLearner)));

  it('applies additions, promotion and removal, and reads them back from the backend', () => {
    const membership = new Membership(backend);
    expect(apply(membership, ConfChangeType.AddNode, 1n, 1)).to.equal(undefined);
    expect(apply(membership, ConfChangeType.AddLearner, 2n, 2, true)).to.equal(undefined);
    expect(membership.confState()).to.deep.equal({ voters: [1], learners: [2] });
    expect(apply(membership, ConfChangeType.AddNode, 2n)).to.equal(undefined); // promotion
    expect(membership.confState()).to.deep.equal({ voters: [1, 2], learners: [] });
    expect(apply(membership, ConfChangeType.RemoveNode, 1n)).to.equal(undefined);
    const reread = new Membership(backend);
    expect(reread.list().map((m) => [m.ID, m.isLearner, m.peerURLs])).to.deep.equal([[2n, false, ['http://127.0.0.1:2']]]);
    expect(reread.isRemoved(1n)).to.equal(true);
  });

  it('refuses at apply time what another change made invalid: a duplicate, a removed ID coming back, an unknown removal', () => {
    const membership = new Membership(backend);
    apply(membership, ConfChangeType.AddNode, 1n, 1);
    expect(apply(membership, ConfChangeType.AddNode, 1n, 1)).to.be.instanceOf(MemberExistsError);
    expect(apply(membership, ConfChangeType.AddLearner, 1n, 1)).to.be.instanceOf(MemberExistsError);
    apply(membership, ConfChangeType.AddNode, 2n, 2);
    apply(membership, ConfChangeType.RemoveNode, 2n);
    expect(apply(membership, ConfChangeType.AddNode, 2n, 2)).to.be.instanceOf(MemberNotFoundError);
    expect(apply(membership, ConfChangeType.RemoveNode, 9n)).to.be.instanceOf(MemberNotFoundError);
    expect(membership.list().map((m) => m.ID)).to.deep.equal([1n]);
  });

  it("validates requests with etcd's rules before they are proposed", () => {
    const membership = new Membership(backend);
    apply(membership, ConfChangeType.AddNode, 1n, 1);
    apply(membership, ConfChangeType.AddLearner, 2n, 2, true);
    expect(() => membership.validateAdd([], false)).to.throw(MemberBadUrlsError);
    expect(() => membership.validateAdd(['not a url'], false)).to.throw(MemberBadUrlsError);
    expect(() => membership.validateAdd(['http://127.0.0.1:1'], false)).to.throw(PeerUrlExistsError);
    expect(() => membership.validateAdd(['http://127.0.0.1:3'], true)).to.throw(TooManyLearnersError);
    membership.validateAdd(['http://127.0.0.1:3'], false);
    expect(() => membership.validatePromote(1n)).to.throw(MemberNotLearnerError);
    expect(() => membership.validatePromote(7n)).to.throw(MemberNotFoundError);
    membership.validatePromote(2n);
    expect(() => membership.validateRemove(7n)).to.throw(MemberNotFoundError);
    expect(() => membership.validateUpdate(1n, ['http://127.0.0.1:2'])).to.throw(PeerUrlExistsError);
    membership.validateUpdate(1n, ['http://127.0.0.1:1', 'http://127.0.0.1:9']);
  });

  it('refuses a peer URL another member has, also with white space around it (etcd trims before comparing)', () => {
    const membership = new Membership(backend);
    apply(membership, ConfChangeType.AddNode, 1n, 1);
    apply(membership, ConfChangeType.AddNode, 2n, 2);
    for (const url of [' http://127.0.0.1:1 ', 'http://127.0.0.1:1\n', '\thttp://127.0.0.1:1']) {
      expect(() => membership.validateAdd([url], true), JSON.stringify(url)).to.throw(PeerUrlExistsError);
      expect(() => membership.validateAdd([url], false), JSON.stringify(url)).to.throw(PeerUrlExistsError);
      expect(() => membership.validateUpdate(2n, [url]), JSON.stringify(url)).to.throw(PeerUrlExistsError);
    }
  });

  it('refuses member URLs etcd would not parse, for MemberAdd and MemberUpdate alike', () => {
    const membership = new Membership(backend);
    apply(membership, ConfChangeType.AddNode, 1n, 1);
    const bad = ['not a url', 'http://', 'http://host', 'http://host:2380/path', 'http://host:2380/', 'ftp://host:2380', 'unix://host:2380', 'http://host:port', 'http://user@host:2380', ''];
    for (const url of bad) {
      expect(() => membership.validateAdd([url], false), url).to.throw(MemberBadUrlsError);
      expect(() => membership.validateUpdate(1n, [url]), url).to.throw(MemberBadUrlsError);
      expect(() => membership.validateUpdate(1n, ['http://127.0.0.1:9', url]), url).to.throw(MemberBadUrlsError);
    }
    expect(() => membership.validateUpdate(1n, [])).to.throw(MemberBadUrlsError);
    expect(() => membership.validateUpdate(7n, ['http://127.0.0.1:9'])).to.throw(MemberNotFoundError);
    for (const url of ['http://10.0.0.1:2380', 'https://node-1.example:12380', 'http://[::1]:2380', 'http://127.0.0.1:80']) membership.validateAdd([url], false);
  });

  it('publishes attributes and peer URL updates', () => {
    const membership = new Membership(backend);
    apply(membership, ConfChangeType.AddNode, 1n, 1);
    backend.transaction(() => membership.setAttributes(1n, 'one', ['http://127.0.0.1:2379']));
    expect(backend.transaction(() => membership.setPeerUrls(1n, ['http://127.0.0.1:5']))).to.equal(undefined);
    expect(backend.transaction(() => membership.setPeerUrls(4n, ['http://127.0.0.1:6']))).to.be.instanceOf(MemberNotFoundError);
    expect(new Membership(backend).get(1n)).to.deep.equal({ ID: 1n, name: 'one', peerURLs: ['http://127.0.0.1:5'], clientURLs: ['http://127.0.0.1:2379'], isLearner: false });
  });

  it('carries a proposal ID and a member through a conf change context', () => {
    const context = { requestId: 123456789012345n, member: member(5n, 5) };
    expect(decodeConfChangeContext(encodeConfChangeContext(context))).to.deep.equal(context);
    expect(decodeConfChangeContext(undefined)).to.deep.equal({ requestId: 0n, member: undefined });
  });
});
