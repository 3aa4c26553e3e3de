import { expect } from 'chai';
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import type { Log, LogFields } from '../log.js';
import { unobserved } from '../node/observer.js';
import { requestSummary } from './request-summary.js';
import { slowApplyWarnings } from './slow-apply.js';

function fieldsLog(): { log: Log; warnings: Array<[string, LogFields]> } {
  const warnings: Array<[string, LogFields]> = [];
  const ignore = (): void => undefined;
  return { warnings, log: { debug: ignore, info: ignore, error: ignore, warn: (message, fields = {}) => void warnings.push([message, fields]) } };
}

const put = InternalRequest.fromPartial({ id: 7n, put: { key: Buffer.from('config/a'), value: Buffer.from('secret value'), lease: 5n } });

describe('logging: slow applies and request summaries', () => {
  it('warns in etcd\'s words and counts a request that took more than 100 ms to apply, and only then', () => {
    const { log, warnings } = fieldsLog();
    let counted = 0;
    const observer = slowApplyWarnings(unobserved, () => counted++, log);
    observer.requestApplied(put, 100);
    expect(warnings).to.deep.equal([]);
    observer.requestApplied(put, 149.07);
    expect(counted).to.equal(1);
    expect(warnings).to.deep.equal([['apply request took too long', {
      took: '149.070ms', 'expected-duration': '100ms', prefix: '', request: 'header:<ID:7 > put:<key:"config/a" value_size:12 lease:5 >',
    }]]);
  });

  it('summarises each kind of request by its key and sizes, never its value or a password hash', () => {
    expect(requestSummary(put)).to.not.include('secret');
    expect(requestSummary(InternalRequest.fromPartial({ id: 1n, deleteRange: { key: Buffer.from('a'), rangeEnd: Buffer.from('b') } }))).to.equal('header:<ID:1 > delete_range:<key:"a" range_end:"b" >');
    expect(requestSummary(InternalRequest.fromPartial({ id: 1n, txn: { compare: [{}], success: [{}, {}], failure: [] } }))).to.equal('header:<ID:1 > txn:<compare_size:1 success_size:2 failure_size:0 >');
    const userAdd = requestSummary(InternalRequest.fromPartial({ id: 1n, authUserAdd: { name: 'alice', hashedPassword: '$2a$10$abcdefghijklmnopqrstuv' } }));
    expect(userAdd).to.equal('header:<ID:1 > auth_user_add:<>');
    expect(requestSummary(InternalRequest.fromPartial({ id: 1n, put: { key: Buffer.alloc(100, 'k'), value: Buffer.alloc(0) } }))).to.include('…(100 bytes)');
  });
});
