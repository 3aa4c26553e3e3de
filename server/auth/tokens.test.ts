import { expect } from 'chai';
import { SimClock } from '../../test/sim/clock.js';
import { SimpleTokens, simpleTokenIndex, simpleTokensMax } from './tokens.js';

describe('SimpleTokens (--auth-token simple)', () => {
  const ttlMs = 300_000;
  let clock: SimClock;
  let tokens: SimpleTokens;

  beforeEach(() => {
    clock = new SimClock();
    tokens = new SimpleTokens(clock, ttlMs);
  });
  afterEach(() => tokens.close());

  it('makes "<16 letters>.<index>" tokens from the prefix drawn before proposing', () => {
    const prefix = tokens.prefix();
    expect(prefix).to.match(/^[a-zA-Z]{16}$/);
    expect(tokens.prefix()).to.not.equal(prefix);
    const token = tokens.assign('alice', prefix, 42);
    expect(token).to.equal(`${prefix}.42`);
    expect(simpleTokenIndex(token)).to.equal(42);
    expect(simpleTokenIndex('not a token')).to.equal(undefined);
    expect(tokens.identify(token)).to.deep.equal({ username: 'alice' });
  });

  it('forgets a token after --auth-token-ttl without use; each use restarts the count', () => {
    const used = tokens.assign('alice', tokens.prefix(), 1);
    const idle = tokens.assign('bob', tokens.prefix(), 2);
    clock.advance(ttlMs - 1_000);
    expect(tokens.identify(used)).to.deep.equal({ username: 'alice' });
    clock.advance(2_000);
    expect(tokens.identify(idle)).to.equal(undefined);
    expect(tokens.identify(used)).to.deep.equal({ username: 'alice' });
    clock.advance(ttlMs);
    expect(tokens.identify(used)).to.equal(undefined);
  });

  it('forgets the tokens of one user on invalidateUser, and all of them on clear', () => {
    const alice = [tokens.assign('alice', tokens.prefix(), 1), tokens.assign('alice', tokens.prefix(), 2)];
    const bob = tokens.assign('bob', tokens.prefix(), 3);
    tokens.invalidateUser('alice');
    expect(alice.map((token) => tokens.identify(token))).to.deep.equal([undefined, undefined]);
    expect(tokens.identify(bob)).to.deep.equal({ username: 'bob' });
    tokens.clear();
    expect(tokens.identify(bob)).to.equal(undefined);
  });

  it(`keeps at most ${simpleTokensMax} tokens, forgetting the oldest first`, () => {
    const first = tokens.assign('u', 'aaaaaaaaaaaaaaaa', 0);
    const second = tokens.assign('u', 'aaaaaaaaaaaaaaaa', 1);
    for (let index = 2; index <= simpleTokensMax; index++) tokens.assign('u', 'aaaaaaaaaaaaaaaa', index);
    expect(tokens.identify(first)).to.equal(undefined);
    expect(tokens.identify(second)).to.deep.equal({ username: 'u' });
  });
});
