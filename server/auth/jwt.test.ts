import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { JwtOptionsError, JwtTokens, JwtVerifyOnlyError, type JwtOptions } from './jwt.js';

/** A clock whose wall time the test sets (JWT expiry is wall time). */
function wallClock(): Clock & { wallNowMs: number } {
  const clock = {
    wallNowMs: Date.UTC(2026, 11, 6),
    nowMs: () => 0,
    wallMs: () => clock.wallNowMs,
    after: () => ({ cancel: () => undefined, unref() { return this; } }),
    every: () => ({ cancel: () => undefined, unref() { return this; } }),
    soon: (fn: () => void) => fn(),
  };
  return clock;
}

describe('JwtTokens (--auth-token jwt)', () => {
  let dir: string;
  const file = (name: string, contents: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, contents);
    return path;
  };
  const options = (extra: Partial<JwtOptions>): JwtOptions => ({ signMethod: 'ES256', ttlMs: 60_000, ...extra });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-jwt-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('signs tokens that it then knows by their user and revision, until they expire', async () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const clock = wallClock();
    const tokens = JwtTokens.open(clock, options({ privateKeyFile: file('k.key', keys.privateKey.export({ type: 'sec1', format: 'pem' })) }));
    const token = await tokens.sign('alice', 7n);
    expect(tokens.identify(token)).to.equal(undefined);
    await tokens.prepare(token);
    expect(tokens.identify(token)).to.deep.equal({ username: 'alice', revision: 7n });
    clock.wallNowMs += 60_000;
    expect(tokens.identify(token)).to.equal(undefined);
    await tokens.prepare(token);
    expect(tokens.identify(token)).to.equal(undefined);
  });

  it('does not know a token signed with another key, with another method, or garbage', async () => {
    const clock = wallClock();
    const mine = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const theirs = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const tokens = JwtTokens.open(clock, options({ privateKeyFile: file('mine.key', mine.privateKey.export({ type: 'pkcs8', format: 'pem' })) }));
    const foreign = await JwtTokens.open(clock, options({ privateKeyFile: file('theirs.key', theirs.privateKey.export({ type: 'pkcs8', format: 'pem' })) })).sign('root', 1n);
    const hmac = await JwtTokens.open(clock, { signMethod: 'HS256', ttlMs: 60_000, privateKeyFile: file('secret', 'shared secret') }).sign('root', 1n);
    for (const token of [foreign, hmac, 'not.a.jwt', '']) {
      await tokens.prepare(token);
      expect(tokens.identify(token), token).to.equal(undefined);
    }
  });

  it('with a public key alone verifies tokens but cannot issue them, as etcd', async () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const clock = wallClock();
    const signer = JwtTokens.open(clock, { signMethod: 'RS256', ttlMs: 60_000, privateKeyFile: file('k.key', keys.privateKey.export({ type: 'pkcs1', format: 'pem' })) });
    const verifier = JwtTokens.open(clock, { signMethod: 'RS256', ttlMs: 60_000, publicKeyFile: file('k.pub', keys.publicKey.export({ type: 'spki', format: 'pem' })) });
    const token = await signer.sign('bob', 3n);
    await verifier.prepare(token);
    expect(verifier.identify(token)).to.deep.equal({ username: 'bob', revision: 3n });
    const refusal = await verifier.sign('bob', 3n).catch((error: Error) => error);
    expect(refusal).to.be.instanceOf(JwtVerifyOnlyError);
  });

  it('refuses to start without a key, with a file it cannot read, or a key that is not one', () => {
    const clock = wallClock();
    expect(() => JwtTokens.open(clock, options({}))).to.throw(JwtOptionsError, 'needs priv-key or pub-key');
    expect(() => JwtTokens.open(clock, { signMethod: 'HS512', ttlMs: 1, publicKeyFile: file('p', 'x') })).to.throw(JwtOptionsError, 'needs priv-key');
    expect(() => JwtTokens.open(clock, options({ privateKeyFile: join(dir, 'missing') }))).to.throw(JwtOptionsError, 'cannot read priv-key');
    expect(() => JwtTokens.open(clock, options({ privateKeyFile: file('bad', 'not a key') }))).to.throw(JwtOptionsError, 'cannot use the key files');
  });
});
