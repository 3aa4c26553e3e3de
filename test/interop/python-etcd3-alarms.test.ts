// python-etcd3's alarm calls (create_alarm, list_alarms, disarm_alarm, a
// member's active_alarms) against etcd 3.4 and cairn, both started with a
// 1 MiB backend quota (test/compat/quota.ts), which the session also fills
// for real. The session is python-etcd3/scenarios/alarms.py; its normalised
// results must be equal whole, and mean on etcd what they should.
import { expect } from 'chai';
import { compatPair } from '../compat/pair.js';
import { quotaArgs } from '../compat/quota.js';
import { requirePythonEtcd3, runArea, sessionTimeoutMs } from './python-etcd3-session.js';

const noSpace = { raised: '_InactiveRpcError', code: 'RESOURCE_EXHAUSTED', details: 'etcdserver: mvcc: database space exceeded' };
/** AlarmType NOSPACE, as the client hands it over (the enum's number). */
const NOSPACE = 1;

describe('interop: python-etcd3 alarms against etcd and cairn', function () {
  this.timeout(sessionTimeoutMs + 10_000);
  const python = requirePythonEtcd3();
  const pair = compatPair({ args: quotaArgs });

  it('NOSPACE raised by hand and by a full backend, listed, refusing writes, disarmed', async () => {
    const [etcd, cairn] = await pair.both((side) => runArea(python(), 'alarms', side));
    expect(cairn.results, 'python-etcd3 alarms: cairn (actual) vs etcd (expected)').to.deep.equal(etcd.results);
    const byHand = [{ alarm_type: NOSPACE, member_id: 0 }];
    const raisedByTheServer = [{ alarm_type: NOSPACE, member_id: 'this member' }];
    expect(etcd.results).to.deep.include({
      'list_alarms': [],
      'create_alarm': { returned: byHand },
      'list_alarms after create': byHand,
      'put while raised': noSpace,
      'disarm_alarm': { returned: byHand },
      'list_alarms after disarm': [],
      'reported size covers it': true,
      'put a big value again': noSpace,
      'list_alarms when full': raisedByTheServer,
      'put a small value when full': noSpace,
      'delete the big value': { returned: true },
      'disarm_alarm of this member': { returned: raisedByTheServer },
      'list_alarms at the end': [],
    });
    expect(etcd.results['put at the end']).to.have.property('returned');
  });
});
