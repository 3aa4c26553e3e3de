// Fuzzing a one-member cairn: generated hostile requests to every client RPC,
// then random bytes as request bodies, then the whole-target checks with a
// restart. See docs/fuzzing.md.
import { expect } from 'chai';
import { garbageOnly, structuredCall } from './arbitraries.js';
import { finalChecks } from './checks.js';
import { fuzzProperty } from './run.js';
import { fuzzSettings, propertyTimeoutMs } from './settings.js';
import { FuzzTarget } from './target.js';

const settings = fuzzSettings();
/** Starting a target, and the checks after a run (with a restart). */
const timeoutMarginMs = 60_000;
/** The properties, named as their tests, so that the --grep a failure prints selects them. */
const generated = 'one member: generated requests to every client RPC';
const garbage = 'one member: random bytes as request bodies';

describe('fuzz: one member', function () {
  let target: FuzzTarget;

  before(async function () {
    this.timeout(timeoutMarginMs);
    target = await FuzzTarget.start('one member', 1);
  });

  after(async () => {
    await target?.destroy();
  });

  it(generated, async function () {
    this.timeout(propertyTimeoutMs(settings));
    await fuzzProperty({ name: generated, target, calls: structuredCall(target.facts), runsDefault: 250, settings });
  });

  it(garbage, async function () {
    this.timeout(propertyTimeoutMs(settings));
    await fuzzProperty({ name: garbage, target, calls: garbageOnly(target.facts), runsDefault: 250, settings });
  });

  it('one member: alive, writable, same HashKV after a restart', async function () {
    this.timeout(timeoutMarginMs);
    expect(await finalChecks(target)).to.deep.equal([]);
  });
});
