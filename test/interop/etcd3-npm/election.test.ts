// The npm `etcd3` client's Election class against etcd and cairn. Like
// etcd's Go concurrency.Election, it runs client-side over KV, Lease and
// Watch: a campaign key `election/<name>/<lease id>` per candidate, the
// leader is the oldest key (sorted by create revision), a candidate waits
// for the deletion of the keys created before its own, and an observer
// follows the leader key with watches. Lease IDs in keys are named
// (etcd3-pair.ts).
import { expect } from 'chai';
import { NotCampaigningError, type Campaign } from 'etcd3';
import { etcd3Pair, sleep, waitFor } from './etcd3-pair.js';

/** How long a second candidate is given to (wrongly) become leader while the first leads. */
const contendMs = 500;

/** Whether `campaign` has been elected so far. */
function electedFlag(campaign: Campaign): () => boolean {
  let elected = false;
  campaign.on('elected', () => (elected = true));
  return () => elected;
}

describe('interop: etcd3 npm — Election', function () {
  const pairs = etcd3Pair();

  it('campaign, leader(), proclaim, resign; proclaim after resigning throws NotCampaigningError', async () => {
    const etcd = await pairs.same('one candidate', async ({ client, n }) => {
      const election = client.election('solo', 10);
      const before = await election.leader();
      const campaign = election.campaign('first value');
      await campaign.wait();
      const key = await campaign.getCampaignKey();
      n.lease(key.slice('election/solo/'.length));
      const leader = await election.leader();
      const keys = n.of((await client.getAll().prefix('election/solo/').exec()).kvs);
      await campaign.proclaim('second value');
      const afterProclaim = await election.leader();
      const proclaimedKv = n.of((await client.get(key).exec()).kvs);
      await campaign.resign();
      const afterResign = await election.leader();
      const proclaimAfterResign = await n.outcome(campaign.proclaim('too late'));
      return { before: before ?? null, key: n.text(key), leader, keys, afterProclaim, proclaimedKv, afterResign: afterResign ?? null, proclaimAfterResign };
    });
    expect(etcd).to.deep.include({ before: null, key: 'election/solo/<lease 1>', leader: 'first value', afterProclaim: 'second value', afterResign: null });
    expect(etcd.proclaimAfterResign).to.deep.equal({ error: { class: NotCampaigningError.name, message: '' } });
  });

  it('two candidates: the second is elected once the first resigns; an observer sees every change', async function () {
    this.timeout(20_000);
    const etcd = await pairs.same('two candidates and an observer', async ({ client, newClient, n }) => {
      const second = newClient();
      const election = client.election('duo', 10);
      const observer = await election.observe();
      const changes: Array<string | null> = [];
      observer.on('change', (value) => changes.push(value ?? null));
      const initialLeader = observer.leader() ?? null;

      const one = election.campaign('one');
      await one.wait();
      n.lease((await one.getCampaignKey()).slice('election/duo/'.length));
      await waitFor(() => changes.length >= 1, 'the observer to see the first leader');

      const two = second.election('duo', 10).campaign('two');
      const twoElected = electedFlag(two);
      const twoWaited = two.wait();
      await sleep(contendMs);
      n.lease((await two.getCampaignKey()).slice('election/duo/'.length));
      const electedWhileOneLeads = twoElected();
      const candidates = n.of((await client.getAll().prefix('election/duo/').sort('Create', 'Ascend').exec()).kvs);

      await one.proclaim('one, again');
      await waitFor(() => changes.length >= 2, 'the observer to see the proclamation');
      const leaderAfterProclaim = await election.leader();

      await one.resign();
      await twoWaited;
      await waitFor(() => changes.length >= 3, 'the observer to see the second leader');
      const leaderAfterResign = await election.leader();
      const observed = observer.leader() ?? null;

      await two.resign();
      await waitFor(() => changes.length >= 4, 'the observer to see no leader');
      await observer.cancel();
      return { initialLeader, electedWhileOneLeads, candidates, leaderAfterProclaim, leaderAfterResign, observed, changes, hasLeader: observer.hasLeader };
    });
    expect(etcd).to.deep.include({
      initialLeader: null,
      electedWhileOneLeads: false,
      leaderAfterProclaim: 'one, again',
      leaderAfterResign: 'two',
      observed: 'two',
      changes: ['one', 'one, again', 'two', null],
    });
    expect(etcd.candidates).to.have.length(2);
  });
});
