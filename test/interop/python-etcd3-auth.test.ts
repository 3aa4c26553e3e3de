// python-etcd3 with user and password against etcd 3.4 and cairn, both
// serving over TLS (grpcio sends the client's call credentials over TLS
// only) with auth enabled. python-etcd3 0.12.0 has no user or role API, so
// etcdctl sets up the users; the session (python-etcd3/scenarios/auth.py)
// then reads, writes, watches, locks and maintains as root and as a user
// with grants on part of the key space. Its normalised results must be
// equal whole, and mean on etcd what they should.
import { expect } from 'chai';
import { etcdctlEach } from '../harness/etcdctl.js';
import { makeTlsFiles, type TlsFiles } from '../harness/tls-fixture.js';
import { compatPair } from '../compat/pair.js';
import { requirePythonEtcd3, runArea, sessionTimeoutMs } from './python-etcd3-session.js';

const rootPassword = 'root-secret';
/** The user the session calls OTHER_USER, with its password and grants. */
const otherUser = 'alice';
const otherPassword = 'alice-secret';

const permissionDenied = { raised: '_InactiveRpcError', code: 'PERMISSION_DENIED', details: 'etcdserver: permission denied' };

describe('interop: python-etcd3 with auth over TLS against etcd and cairn', function () {
  this.timeout(sessionTimeoutMs + 10_000);
  const python = requirePythonEtcd3();
  let files: TlsFiles | undefined;
  before(() => {
    files = makeTlsFiles();
  });
  after(() => files?.remove());
  const tlsFiles = (): TlsFiles => {
    if (files === undefined) throw new Error('no certificates');
    return files;
  };
  const pair = compatPair({ tls: () => ({ certFile: tlsFiles().serverCertFile, keyFile: tlsFiles().serverKeyFile, probe: { caFile: tlsFiles().caFile } }) });

  it('root and a user with grants: what each may do, and the refusals', async () => {
    const ca = ['--cacert', tlsFiles().caFile];
    const [etcd, cairn] = await pair.both(async (side) => {
      await etcdctlEach(side.server.endpoint, [
        ['user', 'add', `root:${rootPassword}`],
        ['user', 'grant-role', 'root', 'root'],
        ['role', 'add', 'app'],
        ['role', 'grant-permission', 'app', 'readwrite', 'app/', '--prefix=true'],
        ['role', 'grant-permission', 'app', 'read', 'shared'],
        ['user', 'add', `${otherUser}:${otherPassword}`],
        ['user', 'grant-role', otherUser, 'app'],
        ['auth', 'enable'],
      ], ca);
      return runArea(python(), 'auth', side, ['--ca-cert', tlsFiles().caFile, '--user', 'root', '--password', rootPassword]);
    });
    expect(cairn.results, 'python-etcd3 auth: cairn (actual) vs etcd (expected)').to.deep.equal(etcd.results);
    const authenticationFailed = { raised: '_InactiveRpcError', code: 'INVALID_ARGUMENT', details: 'etcdserver: authentication failed, invalid user ID or password' };
    expect(etcd.results).to.deep.include({
      'wrong password': authenticationFailed,
      'unknown user': authenticationFailed,
      'no credentials: get': { raised: '_InactiveRpcError', code: 'INVALID_ARGUMENT', details: 'etcdserver: user name is empty' },
      'put a read-only key': permissionDenied,
      'get outside the grants': permissionDenied,
      'delete outside the grants': permissionDenied,
      'get_all': permissionDenied,
      'replace inside': { returned: true },
      'replace comparing outside': permissionDenied,
      'lease keys': { returned: ['app/leased'] },
      // etcd cancels the watch at once, with watch ID -1 (clientv3.InvalidWatchID).
      'watch outside the grants: the watch ID': { returned: -1 },
      'lock outside the grants': permissionDenied,
      'root lock': true,
      // 0.12.0's hash() sends no credentials.
      'root hash': { raised: '_InactiveRpcError', code: 'UNKNOWN', details: 'auth: user name is empty' },
      'alice defragment': { raised: '_InactiveRpcError', code: 'UNKNOWN', details: 'auth: permission denied' },
      'root defragment': { returned: null },
      'root snapshot': { returned: null },
    });
    expect(etcd.results['get inside the grant']).to.have.nested.property('returned.value', 'v');
    expect(etcd.results['watch inside the grant']).to.have.nested.property('[0].kv.value', 'from root');
  });
});
