// Fuzzing a three-member cairn cluster: generated hostile requests and random
// bytes, each to a random member, then the whole-target checks: the members'
// HashKV agree, and the leader restarted on its data directory comes back
// with the same HashKV. See docs/fuzzing.md.
import { expect } from 'chai';
import { mixedCall } from './arbitraries.js';
import { finalChecks } from './checks.js';
import { fuzzProperty } from './run.js';
import { fuzzSettings, propertyTimeoutMs } from './settings.js';
import { FuzzTarget } from './target.js';

const settings = fuzzSettings();
const timeoutMarginMs = 60_000;
/** The properties, named as their tests, so that the --grep a failure prints selects them. */
const mixed = 'three members: generated requests and random bytes to random members';

describe('fuzz: three members', function () {
  let target: FuzzTarget;

  before(async function () {
    this.timeout(timeoutMarginMs);
    target = await FuzzTarget.start('three members', 3);
  });

  after(async () => {
    await target?.destroy();
  });

  it(mixed, async function () {
    this.timeout(propertyTimeoutMs(settings));
    await fuzzProperty({ name: mixed, target, calls: mixedCall(target.facts), runsDefault: 200, settings });
  });

  it('three members: alive, writable, HashKV agree, same HashKV after a restart', async function () {
    this.timeout(timeoutMarginMs);
    expect(await finalChecks(target)).to.deep.equal([]);
  });
});
