import { expect } from 'chai';
import { measuringOrder, parseClusterFlags } from './cluster-flags.js';

describe('bench cluster-throughput flags', () => {
  it('alternates which kind goes first between repetitions', () => {
    expect(measuringOrder(['etcd', 'cairn'], 3)).to.deep.equal(['etcd', 'cairn', 'cairn', 'etcd', 'etcd', 'cairn']);
    expect(measuringOrder(['cairn'], 2)).to.deep.equal(['cairn', 'cairn']);
  });

  it('runs no check perf unless asked, and every workload by default', () => {
    const config = parseClusterFlags([]);
    if (config === 'help') throw new Error('unexpected help');
    expect(config.checkPerfLoads).to.deep.equal([]);
    expect(config.workloads).to.deep.equal(['put-leader', 'put-all', 'range-linearizable', 'range-serializable']);
    expect(config.workers * config.connectionsPerWorker * config.inFlightPerConnection).to.equal(256);
  });

  it('refuses an unknown check perf load or workload in one sentence', () => {
    expect(() => parseClusterFlags(['--check-perf', 'm,q'])).to.throw('--check-perf takes s, m, l, xl, got "q"');
    expect(() => parseClusterFlags(['--workloads', 'put'])).to.throw('--workloads takes put-leader, put-all, range-linearizable, range-serializable, got "put"');
  });
});
