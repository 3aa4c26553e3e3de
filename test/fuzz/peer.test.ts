// Fuzzing the peer port: generated Raft message batches, snapshot streams and
// random bytes sent to the peer port of a random member of a live 3-member
// cluster (then of a single member), as a peer without the members'
// credentials could send them, plus a bounded set of messages that speak as
// a real member (peer-guard.ts says which are never sent). After every case
// the cluster settles (peer-run.ts); after the run a member restarted on its
// data directory has the same HashKV. See docs/fuzzing.md.
import { expect } from 'chai';
import { finalChecks } from './checks.js';
import { fuzzPeerProperty, settled } from './peer-run.js';
import { fuzzSettings, propertyTimeoutMs, withCiTimeLimit } from './settings.js';
import { FuzzTarget } from './target.js';

/** Short timeouts, so that the elections forged messages cause settle quickly. */
const timingArgs = ['--heartbeat-interval', '50', '--election-timeout', '500'];
const timeoutMarginMs = 60_000;
/** The properties, named as their tests, so that the --grep a failure prints selects them. */
const threeMembers = 'peer port, three members: generated Raft messages, snapshots and bytes to random members';
const oneMember = 'peer port, one member: generated Raft messages, snapshots and bytes';

for (const { size, name, runsDefault, ciSeconds } of [
  { size: 3, name: threeMembers, runsDefault: 400, ciSeconds: 22 },
  { size: 1, name: oneMember, runsDefault: 200, ciSeconds: 5 },
]) {
  const settings = withCiTimeLimit(fuzzSettings(), ciSeconds);

  describe(`fuzz: peer port, ${size === 1 ? 'one member' : `${size} members`}`, function () {
    let target: FuzzTarget;

    before(async function () {
      this.timeout(timeoutMarginMs);
      target = await FuzzTarget.start(name, size, timingArgs);
    });

    after(async () => {
      await target?.destroy();
    });

    it(name, async function () {
      this.timeout(propertyTimeoutMs(settings));
      await fuzzPeerProperty({ name, target, runsDefault, settings });
    });

    it(`${name}: settled, HashKV agree, same HashKV after a restart`, async function () {
      this.timeout(timeoutMarginMs);
      expect(await settled(target)).to.deep.equal([]);
      expect(await finalChecks(target)).to.deep.equal([]);
    });
  });
}
