// The normalisation must hide only what may differ between two servers: these
// tests pin that it keeps revisions, values, codes and messages.
import { expect } from 'chai';
import { normaliseMessage, normaliseRun, parseJson } from './normalise.js';

const run = (stdout: string, stderr = '', code: number | null = 0) => ({ code, stdout, stderr });

describe('compat: normalise', function () {
  it('drops cluster_id, member_id and raft_term but keeps the revision', () => {
    const a = '{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,"revision":6,"raft_term":2},"count":1}\n';
    const b = '{"header":{"cluster_id":1,"member_id":2,"revision":6,"raft_term":9},"count":1}\n';
    const c = '{"header":{"cluster_id":1,"member_id":2,"revision":7,"raft_term":9},"count":1}\n';
    expect(normaliseRun(run(a), 'x', ['get'])).to.deep.equal(normaliseRun(run(b), 'x', ['get']));
    expect(normaliseRun(run(a), 'x', ['get'])).to.not.deep.equal(normaliseRun(run(c), 'x', ['get']));
  });

  it('drops nested response headers identity too (txn -w json)', () => {
    const a = '{"header":{"revision":3},"responses":[{"Response":{"ResponsePut":{"header":{"revision":3,"raft_term":2}}}}]}';
    const b = '{"header":{"revision":3},"responses":[{"Response":{"ResponsePut":{"header":{"revision":4,"raft_term":2}}}}]}';
    expect(normaliseRun(run(a), 'x', ['txn'])).to.not.deep.equal(normaliseRun(run(b), 'x', ['txn']));
  });

  it('hides each server\'s own endpoint, not other text', () => {
    const a = normaliseRun(run('127.0.0.1:1111, 5\n'), '127.0.0.1:1111', ['endpoint', 'hashkv']);
    const b = normaliseRun(run('127.0.0.1:2222, 5\n'), '127.0.0.1:2222', ['endpoint', 'hashkv']);
    const c = normaliseRun(run('127.0.0.1:2222, 6\n'), '127.0.0.1:2222', ['endpoint', 'hashkv']);
    expect(a).to.deep.equal(b);
    expect(a).to.not.deep.equal(c);
  });

  it('endpoint status keeps revision and leadership, drops ID, version, sizes and raft indexes', () => {
    const status = (memberId: string, leader: string, revision: number, raftIndex: number, version: string) =>
      `[{"Endpoint":"ep:1","Status":{"header":{"cluster_id":1,"member_id":${memberId},"revision":${revision},"raft_term":2},"version":"${version}","dbSize":20480,"leader":${leader},"raftIndex":${raftIndex},"raftTerm":2,"raftAppliedIndex":${raftIndex},"dbSizeInUse":16384}}]\n`;
    const command = ['endpoint', 'status', '-w', 'json'];
    const etcd = normaliseRun(run(status('3319814642761637952', '3319814642761637952', 6, 9, '3.4.23')), 'ep:1', command);
    const same = normaliseRun(run(status('42', '42', 6, 100, '0.1.0')), 'ep:1', command);
    const otherRevision = normaliseRun(run(status('42', '42', 7, 100, '0.1.0')), 'ep:1', command);
    const notLeader = normaliseRun(run(status('42', '43', 6, 100, '0.1.0')), 'ep:1', command);
    expect(same).to.deep.equal(etcd);
    expect(otherRevision).to.not.deep.equal(etcd);
    expect(notLeader).to.not.deep.equal(etcd);
  });

  it('endpoint status simple format keeps is-leader, is-learner and errors', () => {
    const command = ['endpoint', 'status'];
    const etcd = normaliseRun(run('ep:1, 2e1259d415f2a040, 3.4.23, 20 kB, true, false, 2, 9, 9, \n'), 'ep:1', command);
    const same = normaliseRun(run('ep:1, 2a, 0.1.0, 1 MB, true, false, 1, 3, 3, \n'), 'ep:1', command);
    const learner = normaliseRun(run('ep:1, 2a, 0.1.0, 1 MB, true, true, 1, 3, 3, \n'), 'ep:1', command);
    expect(same).to.deep.equal(etcd);
    expect(learner).to.not.deep.equal(etcd);
  });

  it('hides the member ID of alarms, not their type', () => {
    const list = (memberId: string, type: string) => `memberID:${memberId} alarm:${type} \n`;
    const etcd = normaliseRun(run(list('3319814642761637952', 'NOSPACE')), 'ep:1', ['alarm', 'list']);
    expect(normaliseRun(run(list('42', 'NOSPACE')), 'ep:1', ['alarm', 'list'])).to.deep.equal(etcd);
    expect(normaliseRun(run(list('42', 'CORRUPT')), 'ep:1', ['alarm', 'list'])).to.not.deep.equal(etcd);
    const json = (memberId: string, type: number) => `{"alarms":[{"memberID":${memberId},"alarm":${type}}]}\n`;
    const etcdJson = normaliseRun(run(json('3319814642761637952', 1)), 'ep:1', ['alarm', 'list', '-w', 'json']);
    expect(normaliseRun(run(json('42', 1)), 'ep:1', ['alarm', 'list', '-w', 'json'])).to.deep.equal(etcdJson);
    expect(normaliseRun(run(json('42', 2)), 'ep:1', ['alarm', 'list', '-w', 'json'])).to.not.deep.equal(etcdJson);
    const status = (memberId: string) => `ep:1, 2a, 3.4.23, 1 MB, true, false, 2, 9, 9, memberID:${memberId} alarm:NOSPACE \n`;
    expect(normaliseRun(run(status('42')), 'ep:1', ['endpoint', 'status'])).to.deep.equal(normaliseRun(run(status('3319814642761637952')), 'ep:1', ['endpoint', 'status']));
  });

  it('compares stderr log lines by level, message, attempt and error, not time or target', () => {
    const line = (ts: string, target: string, error: string) =>
      `{"level":"warn","ts":"${ts}","caller":"clientv3/retry_interceptor.go:62","msg":"retrying of unary invoker failed","target":"${target}","attempt":0,"error":"${error}"}\nError: x\n`;
    const compacted = 'rpc error: code = OutOfRange desc = etcdserver: mvcc: required revision has been compacted';
    const a = normaliseRun(run('', line('t1', 'endpoint://client-1/ep:1', compacted), 1), 'ep:1', ['get']);
    const b = normaliseRun(run('', line('t2', 'endpoint://client-2/ep:1', compacted), 1), 'ep:1', ['get']);
    const c = normaliseRun(run('', line('t2', 'endpoint://client-2/ep:1', compacted.replace('OutOfRange', 'Unknown')), 1), 'ep:1', ['get']);
    expect(a).to.deep.equal(b);
    expect(a).to.not.deep.equal(c);
  });

  it('keeps 64-bit integers exact', () => {
    expect(parseJson('{"hash":12345678901234567891}')).to.deep.equal({ hash: '12345678901234567891' });
    expect(parseJson('[1,2]')).to.deep.equal([1, 2]);
    expect(parseJson('OK')).to.equal(undefined);
  });

  it('raw messages: buffers and bigints become strings, header identity is dropped', () => {
    const message = { header: { clusterId: 1n, memberId: 2n, revision: 3n, raftTerm: 4n }, kvs: [{ key: Buffer.from('k'), version: 1n }], more: false };
    expect(normaliseMessage(message)).to.deep.equal({ header: { revision: '3' }, kvs: [{ key: 'k', version: '1' }], more: false });
  });
});
