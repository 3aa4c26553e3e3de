// JWT auth tokens side by side: etcd and cairn started with the same
// `--auth-token jwt,sign-method=RS256,priv-key=…,pub-key=…,ttl=…` (a key made
// for this run). Both issue tokens with etcd's claims; a token one server
// signed is taken by the other; after any change of the auth store a token
// is refused as "revision of auth store is old" by both, and the SDK
// authenticates again by itself.
import { expect } from 'chai';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthClient, KVClient, RangeRequest, type AuthenticateResponse, type RangeResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { connect } from '../../client/index.js';
import { etcdctl } from '../harness/etcdctl.js';
import type { ServerHandle } from '../harness/launcher.js';
import { compatPair } from './pair.js';
import { unary, responseOf, type Outcome } from './rpc.js';

/** An RSA key pair in PEM files, in a fresh directory (removed by the caller). */
function keyFiles(): { dir: string; privateKey: string; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-jwt-'));
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = join(dir, 'jwt.key');
  const publicKey = join(dir, 'jwt.pub');
  writeFileSync(privateKey, pair.privateKey.export({ type: 'pkcs1', format: 'pem' }));
  writeFileSync(publicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { dir, privateKey, publicKey };
}

function authenticate(server: ServerHandle, name: string, password: string): Promise<string> {
  const client = new AuthClient(server.endpoint, credentials.createInsecure());
  return unary<AuthenticateResponse>((metadata, options, done) => client.authenticate({ name, password }, metadata, options, done))
    .then((outcome) => responseOf(outcome, `authenticate ${name}`).token)
    .finally(() => client.close());
}

function rangeWith(server: ServerHandle, token: string): Promise<Outcome<RangeResponse>> {
  const client = new KVClient(server.endpoint, credentials.createInsecure());
  return unary<RangeResponse>((metadata: Metadata, options, done) => {
    metadata.set('token', token);
    return client.range(RangeRequest.fromPartial({ key: Buffer.from('jwt/k') }), metadata, options, done);
  }).finally(() => client.close());
}

/** A token's claims, with the values that differ by server and time reduced to their type. */
function claimsOf(token: string): Record<string, string> {
  const [, payload] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(claims).map(([name, value]) => [name, name === 'username' ? String(value) : typeof value]));
}

describe('compat: JWT auth tokens (--auth-token jwt,…)', function () {
  const keys = keyFiles();
  const pair = compatPair({ args: ['--auth-token', `jwt,pub-key=${keys.publicKey},priv-key=${keys.privateKey},sign-method=RS256,ttl=10m`] });
  after(() => rmSync(keys.dir, { recursive: true, force: true }));

  it('both issue RS256 tokens with etcd\'s claims, and take a token the other one signed', async () => {
    for (const args of [['user', 'add', 'root:secret'], ['user', 'grant-role', 'root', 'root'], ['auth', 'enable']]) await pair.etcdctl(args);
    expect((await pair.etcdctl(['--user', 'root:secret', 'put', 'jwt/k', 'v'])).stdout).to.equal('OK\n');
    const [etcdToken, cairnToken] = await Promise.all([authenticate(pair.etcd, 'root', 'secret'), authenticate(pair.cairn, 'root', 'secret')]);
    expect(JSON.parse(Buffer.from(cairnToken.split('.')[0] ?? '', 'base64url').toString())).to.deep.equal({ alg: 'RS256', typ: 'JWT' });
    expect(claimsOf(cairnToken)).to.deep.equal(claimsOf(etcdToken));
    expect(claimsOf(etcdToken)).to.deep.equal({ username: 'root', revision: 'number', exp: 'number' });
    const crossed = await Promise.all([rangeWith(pair.etcd, cairnToken), rangeWith(pair.cairn, etcdToken)]);
    for (const outcome of crossed) expect(responseOf(outcome, 'a Range with the other server\'s token').kvs.map((kv) => kv.value.toString())).to.deep.equal(['v']);
  });

  it('after a change of the auth store, both refuse an older token as "revision of auth store is old"', async () => {
    const [etcdToken, cairnToken] = await Promise.all([authenticate(pair.etcd, 'root', 'secret'), authenticate(pair.cairn, 'root', 'secret')]);
    await pair.etcdctl(['--user', 'root:secret', 'role', 'add', 'later']);
    const outcomes = await Promise.all([rangeWith(pair.etcd, etcdToken), rangeWith(pair.cairn, cairnToken)]);
    for (const outcome of outcomes) expect(outcome).to.deep.equal({ ok: false, code: status.INVALID_ARGUMENT, details: 'etcdserver: revision of auth store is old' });
  });

  it('the SDK authenticates again when its token grew old, on both', async () => {
    for (const server of [pair.etcd, pair.cairn]) {
      const client = await connect({ endpoints: [server.endpoint], auth: { username: 'root', password: 'secret' } });
      try {
        await client.put('jwt/sdk', '1');
        expect((await etcdctl(server.endpoint, ['--user', 'root:secret', 'role', 'add', `from-sdk-${server.kind}`])).code).to.equal(0);
        await client.put('jwt/sdk', '2');
        expect((await client.get('jwt/sdk'))?.value.toString()).to.equal('2');
      } finally {
        client.close();
      }
    }
  });

  it('a token signed with another key is refused by both as an invalid auth token', async () => {
    const other = keyFiles();
    try {
      const forged = await new SignJWT({ username: 'root', revision: 1000, exp: Math.floor(Date.now() / 1000) + 600 })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
        .sign(createPrivateKey(readFileSync(other.privateKey)));
      const outcomes = await Promise.all([rangeWith(pair.etcd, forged), rangeWith(pair.cairn, forged)]);
      for (const outcome of outcomes) expect(outcome).to.deep.equal({ ok: false, code: status.UNAUTHENTICATED, details: 'etcdserver: invalid auth token' });
    } finally {
      rmSync(other.dir, { recursive: true, force: true });
    }
  });
});
