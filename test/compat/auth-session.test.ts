// An etcdctl auth session, side by side: the same commands on one etcd and
// one cairn, whose output must be identical (normalise.ts). Users, roles and
// grants on a prefix, auth enabled, then reads and writes inside and outside
// the prefix, txns, watches, admin-only commands, and every error etcdctl
// prints on the way; auth disabled at the end. The steps share the servers'
// state, so they run in order.
import { expect } from 'chai';
import { credentials, status, type Metadata } from '@grpc/grpc-js';
import { AuthClient, type AuthenticateResponse, type RangeResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import type { LockResponse, UnlockResponse } from '../../proto/gen/v3lockpb/v3lock.js';
import { compatPair, type PairSide } from './pair.js';
import { responseOf, unary, type Outcome } from './rpc.js';

const root = ['--user', 'root:secret'];
const alice = ['--user', 'alice:pw'];

/** etcdctl txn's stdin: compares, blank line, success ops, blank line, failure ops. */
function txnInput(compares: string[], success: string[], failure: string[]): string {
  return `${[compares.join('\n'), success.join('\n'), failure.join('\n')].join('\n\n')}\n\n`;
}

describe('compat: an etcdctl auth session', function () {
  const pair = compatPair();

  it('adds users and roles and grants permissions, with etcd\'s errors for repeats and unknown names', async () => {
    expect((await pair.etcdctl(['user', 'add', 'root:secret'])).stdout).to.equal('User root created\n');
    await pair.etcdctl(['user', 'add', 'root:again']);
    await pair.etcdctl(['user', 'grant-role', 'root', 'root']);
    await pair.etcdctl(['role', 'add', 'app']);
    expect((await pair.etcdctl(['role', 'add', 'app'])).stderr).to.include('etcdserver: role name already exists');
    await pair.etcdctl(['role', 'grant-permission', 'app', 'readwrite', '--prefix', 'app/']);
    await pair.etcdctl(['role', 'grant-permission', 'app', 'read', 'shared']);
    await pair.etcdctl(['role', 'grant-permission', 'app', 'write', 'zz/', '--from-key']);
    await pair.etcdctl(['user', 'add', 'alice:pw']);
    await pair.etcdctl(['user', 'grant-role', 'alice', 'app']);
    expect((await pair.etcdctl(['user', 'grant-role', 'alice', 'nope'])).stderr).to.include('etcdserver: role name not found');
    expect((await pair.etcdctl(['user', 'grant-role', 'bob', 'app'])).stderr).to.include('etcdserver: user name not found');
    await pair.etcdctl(['user', 'get', 'alice']);
    await pair.etcdctl(['role', 'get', 'app']);
    await pair.etcdctl(['user', 'list']);
    await pair.etcdctl(['role', 'list']);
  });

  it('enables auth only with a root user that has the root role', async () => {
    await pair.etcdctl(['user', 'delete', 'root']);
    expect((await pair.etcdctl(['auth', 'enable'])).stderr).to.include('etcdserver: root user does not exist');
    await pair.etcdctl(['user', 'add', 'root:secret']);
    // etcdctl meets "root user does not have root role", adds the role, grants it, and enables.
    const enabled = await pair.etcdctl(['auth', 'enable']);
    expect(enabled.stderr).to.include('etcdserver: root user does not have root role');
    expect(enabled.stdout).to.equal('Authentication Enabled\n');
  });

  it('refuses a request without credentials, and a wrong password', async () => {
    expect((await pair.etcdctl(['put', 'app/1', 'v'])).stderr).to.include('etcdserver: user name is empty');
    expect((await pair.etcdctl(['--user', 'alice:wrong', 'get', 'app/1'])).stderr).to.include('etcdserver: authentication failed, invalid user ID or password');
    expect((await pair.etcdctl(['--user', 'nobody:pw', 'get', 'app/1'])).stderr).to.include('etcdserver: authentication failed, invalid user ID or password');
  });

  it('lets a user read and write inside its grants and nowhere else', async () => {
    await pair.etcdctl([...root, 'put', 'shared', 's']);
    await pair.etcdctl([...root, 'put', 'secret', 'x']);
    expect((await pair.etcdctl([...alice, 'put', 'app/1', 'v'])).stdout).to.equal('OK\n');
    await pair.etcdctl([...alice, 'put', 'app/2', 'w', '--prev-kv']);
    await pair.etcdctl([...alice, 'get', 'app/', '--prefix']);
    await pair.etcdctl([...alice, 'get', 'shared']);
    await pair.etcdctl([...alice, 'put', 'zz/mail', 'mail']);
    expect((await pair.etcdctl([...alice, 'get', 'zz/mail'])).stderr).to.include('etcdserver: permission denied');
    expect((await pair.etcdctl([...alice, 'put', 'shared', 'no'])).stderr).to.include('etcdserver: permission denied');
    expect((await pair.etcdctl([...alice, 'get', 'secret'])).stderr).to.include('etcdserver: permission denied');
    expect((await pair.etcdctl([...alice, 'get', '', '--prefix'])).stderr).to.include('etcdserver: permission denied');
    expect((await pair.etcdctl([...alice, 'get', 'app/', '--from-key'])).stderr).to.include('etcdserver: permission denied');
    expect((await pair.etcdctl([...alice, 'del', 'secret'])).stderr).to.include('etcdserver: permission denied');
    expect((await pair.etcdctl([...alice, 'del', 'app/', '--prefix', '--prev-kv'])).stdout).to.include('app/1');
    await pair.etcdctl([...root, 'get', '', '--prefix']);
  });

  it('checks every compare and both branches of a txn', async () => {
    const inside = txnInput(['value("app/1") = "v"'], ['put app/1 t'], ['get app/1']);
    await pair.etcdctl([...alice, 'txn'], { stdin: inside });
    const readsOutside = txnInput(['value("secret") = "x"'], ['put app/1 t'], []);
    expect((await pair.etcdctl([...alice, 'txn'], { stdin: readsOutside })).stderr).to.include('etcdserver: permission denied');
    const failureOutside = txnInput(['value("app/1") = "t"'], ['get app/1'], ['put secret stolen']);
    expect((await pair.etcdctl([...alice, 'txn'], { stdin: failureOutside })).stderr).to.include('etcdserver: permission denied');
    await pair.etcdctl([...root, 'get', 'secret']);
  });

  it('cancels a watch outside the grants with "permission denied"', async () => {
    const result = await pair.etcdctl([...alice, 'watch', 'secret'], { timeoutMs: 10_000 });
    expect(result.stderr).to.include('etcdserver: permission denied');
  });

  it('keeps user and role administration, defragmentation and hashes to root', async () => {
    expect((await pair.etcdctl([...alice, 'user', 'list'])).stderr).to.include('etcdserver: permission denied');
    expect((await pair.etcdctl([...alice, 'role', 'add', 'mine'])).stderr).to.include('etcdserver: permission denied');
    await pair.etcdctl([...alice, 'user', 'get', 'alice']);
    expect((await pair.etcdctl([...alice, 'user', 'get', 'root'])).stderr).to.include('etcdserver: permission denied');
    await pair.etcdctl([...alice, 'role', 'get', 'app']);
    expect((await pair.etcdctl([...alice, 'defrag'])).stderr).to.include('auth: permission denied');
    expect((await pair.etcdctl([...alice, 'endpoint', 'hashkv'])).stderr).to.include('auth: permission denied');
    await pair.etcdctl([...root, 'defrag']);
    await pair.etcdctl([...alice, 'compact', '3']);
  });

  it('runs the Lock service and raw Ranges as the token\'s user, and refuses a token it never issued', async () => {
    const etcd = await pair.same('Lock and Range with tokens', async (side) => {
      const token = await authenticate(side, 'alice', 'pw');
      const withToken = (value: string) => (metadata: Metadata): Metadata => (metadata.set('token', value), metadata);
      const inside = await unary<LockResponse>((metadata, options, done) => side.clients.lock.lock({ name: Buffer.from('app/l'), lease: 0n }, withToken(token)(metadata), options, done));
      const held = responseOf(inside, 'Lock app/l').key.toString();
      const unlocked = await unary<UnlockResponse>((metadata, options, done) => side.clients.lock.unlock({ key: Buffer.from(held) }, withToken(token)(metadata), options, done));
      const outside = await unary<LockResponse>((metadata, options, done) => side.clients.lock.lock({ name: Buffer.from('secret/l'), lease: 0n }, withToken(token)(metadata), options, done));
      const bogus = await unary<RangeResponse>((metadata, options, done) => side.clients.kv.range(rangeOf('app/1'), withToken('abcdefghijklmnop.1')(metadata), options, done));
      const noToken = await unary<RangeResponse>((metadata, options, done) => side.clients.kv.range(rangeOf('app/1'), metadata, options, done));
      // python-etcd3 sends its token twice in one call (as call credentials and as metadata).
      const withTokenTwice = (metadata: Metadata): Metadata => (metadata.add('token', token), metadata.add('token', token), metadata);
      const twice = await unary<RangeResponse>((metadata, options, done) => side.clients.kv.range(rangeOf('app/1'), withTokenTwice(metadata), options, done));
      return { held: held.startsWith('app/l/'), unlocked: unlocked.ok, outside: failure(outside), bogus: failure(bogus), noToken: failure(noToken), twice: failure(twice) };
    });
    expect(etcd).to.deep.equal({
      held: true,
      unlocked: true,
      outside: { code: status.UNKNOWN, details: 'etcdserver: permission denied' },
      bogus: { code: status.UNAUTHENTICATED, details: 'etcdserver: invalid auth token' },
      noToken: { code: status.INVALID_ARGUMENT, details: 'etcdserver: user name is empty' },
      twice: 'succeeded',
    });
  });

  it('refuses to remove root or its role while auth is enabled', async () => {
    expect((await pair.etcdctl([...root, 'user', 'delete', 'root'])).stderr).to.include('etcdserver: invalid auth management');
    expect((await pair.etcdctl([...root, 'user', 'revoke-role', 'root', 'root'])).stderr).to.include('etcdserver: invalid auth management');
    expect((await pair.etcdctl([...root, 'role', 'delete', 'root'])).stderr).to.include('etcdserver: invalid auth management');
  });

  it('revokes permissions and roles, with etcd\'s errors when they were not granted', async () => {
    await pair.etcdctl([...root, 'role', 'revoke-permission', 'app', 'shared']);
    expect((await pair.etcdctl([...root, 'role', 'revoke-permission', 'app', 'shared'])).stderr).to.include('etcdserver: permission is not granted to the role');
    expect((await pair.etcdctl([...alice, 'get', 'shared'])).stderr).to.include('etcdserver: permission denied');
    await pair.etcdctl([...root, 'user', 'revoke-role', 'alice', 'app']);
    expect((await pair.etcdctl([...root, 'user', 'revoke-role', 'alice', 'app'])).stderr).to.include('etcdserver: role is not granted to the user');
    expect((await pair.etcdctl([...alice, 'get', 'app/1'])).stderr).to.include('etcdserver: permission denied');
  });

  it('changes a password: the old one stops working', async () => {
    await pair.etcdctl([...root, 'user', 'passwd', 'alice', '--interactive=false'], { stdin: 'newpw\n' });
    expect((await pair.etcdctl([...alice, 'user', 'get', 'alice'])).stderr).to.include('etcdserver: authentication failed, invalid user ID or password');
    await pair.etcdctl(['--user', 'alice:newpw', 'user', 'get', 'alice']);
  });

  it('disables auth (root only), after which requests need no credentials', async () => {
    expect((await pair.etcdctl(['--user', 'alice:newpw', 'auth', 'disable'])).stderr).to.include('etcdserver: permission denied');
    expect((await pair.etcdctl([...root, 'auth', 'disable'])).stdout).to.equal('Authentication Disabled\n');
    await pair.etcdctl(['get', 'secret']);
    await pair.etcdctl(['user', 'delete', 'alice']);
    await pair.etcdctl(['role', 'delete', 'app']);
    await pair.etcdctl(['user', 'list']);
    await pair.etcdctl(['role', 'list']);
  });
});

/** A token for `name`, from the Auth service of `side`. */
async function authenticate(side: PairSide, name: string, password: string): Promise<string> {
  const client = new AuthClient(side.server.endpoint, credentials.createInsecure());
  try {
    const outcome = await unary<AuthenticateResponse>((metadata, options, done) => client.authenticate({ name, password }, metadata, options, done));
    return responseOf(outcome, `authenticate ${name}`).token;
  } finally {
    client.close();
  }
}

function rangeOf(key: string) {
  return { key: Buffer.from(key), rangeEnd: Buffer.alloc(0), limit: 0n, revision: 0n, sortOrder: 0, sortTarget: 0, serializable: false, keysOnly: false, countOnly: false, minModRevision: 0n, maxModRevision: 0n, minCreateRevision: 0n, maxCreateRevision: 0n };
}

/** A failed call's code and message; a call that succeeded where it should not, as such. */
function failure<T>(outcome: Outcome<T>): { code: number; details: string } | 'succeeded' {
  return outcome.ok ? 'succeeded' : { code: outcome.code, details: outcome.details };
}

describe('compat: simple tokens expire after --auth-token-ttl without use', function () {
  const pair = compatPair({ args: ['--auth-token-ttl', '2'] });

  it('both refuse a token idle for longer than the TTL as an invalid auth token, and keep one in use', async function () {
    this.timeout(30_000);
    for (const args of [['user', 'add', 'root:secret'], ['user', 'grant-role', 'root', 'root'], ['auth', 'enable']]) await pair.etcdctl(args);
    const outcome = await pair.same('a token idle past the TTL, and one used within it', async (side) => {
      const idle = await authenticate(side, 'root', 'secret');
      const used = await authenticate(side, 'root', 'secret');
      const range = (token: string) => unary<RangeResponse>((metadata, options, done) => side.clients.kv.range(rangeOf('ttl'), (metadata.set('token', token), metadata), options, done));
      // The TTL is counted from the last use, in whole seconds on etcd: use one token every second for 4 s.
      for (let second = 0; second < 4; second++) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        if (!(await range(used)).ok) return { usedKeptAlive: false };
      }
      return { usedKeptAlive: true, idle: failure(await range(idle)) };
    });
    expect(outcome).to.deep.equal({ usedKeptAlive: true, idle: { code: status.UNAUTHENTICATED, details: 'etcdserver: invalid auth token' } });
  });
});
