// With authentication off (cairn has no auth yet), credentials are refused
// the way etcd refuses them, and disabling auth succeeds.
import { expect } from 'chai';
import { compatPair } from './pair.js';

describe('compat: auth disabled', function () {
  const pair = compatPair();

  // etcdctl logs the refusal and goes on without a token, so the get itself succeeds on both.
  it('a client with credentials is told "authentication is not enabled" and goes on without a token', async () => {
    await pair.put('auth/any', 'value');
    const result = await pair.etcdctl(['--user', 'root:secret', 'get', 'auth/any']);
    expect(result.stderr).to.include('code = FailedPrecondition desc = etcdserver: authentication is not enabled');
    expect(result.stdout).to.equal('auth/any\nvalue\n');
  });

  it('auth disable succeeds when auth is off', async () => {
    const result = await pair.etcdctl(['auth', 'disable']);
    expect(result.stdout).to.equal('Authentication Disabled\n');
  });
});
