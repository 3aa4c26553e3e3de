// etcd's Go concurrency.Election (clientv3 3.4, in etcd-client) and cairn's
// Election recipe in the same election, against etcd and against cairn: a
// leader of either kind is the leader for both (Election.Leader, Observe,
// Election.leader, leader$), the other kind's candidate waits behind it, and
// a resignation hands leadership over.
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import { Election, NoLeaderElectedError, type Leader, type Leadership } from '../../../recipes/index.js';
import { compatPair } from '../../compat/pair.js';
import { eventually } from '../../sdk/support.js';
import { EtcdctlProcesses, sleep } from '../etcdctl-process.js';
import { useGoClient } from './build.js';
import { field, startGoClient } from './client-process.js';
import { waitForKeys, withRecipes } from './recipe-side.js';

/** How long a candidate is given to (wrongly) lead while the other leads. */
const contendMs = 500;
const handOverMsMax = 15_000;

/** A leader as both sides report it: the key with the session lease written `<lease N>`, and the value. */
interface SeenLeader {
  key: string;
  value: string;
}

describe('interop: Go clientv3 concurrency.Election and the Election recipe', function () {
  this.timeout(60_000);
  const goClient = useGoClient();
  const pair = compatPair();
  const processes = new EtcdctlProcesses();
  afterEach(() => processes.killAll());

  const start = (args: string[]) => startGoClient(processes, goClient(), args);

  /** The Go client's one-shot Election.Leader: the leader's key and value, or 'no leader' (ErrElectionNoLeader). */
  async function goLeader(endpoint: string, name: string): Promise<SeenLeader | 'no leader'> {
    const leader = start(['leader', endpoint, name]);
    const exit = await leader.background.closed;
    if (exit.code !== 0) throw new Error(`etcd-client leader failed: ${leader.background.stderr()}`);
    const events = leader.events();
    const found = events.find((item) => item.event === 'leader');
    if (found !== undefined) return { key: field(found, 'key'), value: field(found, 'value') };
    if (events.some((item) => item.event === 'no-leader')) return 'no leader';
    throw new Error(`etcd-client leader printed neither a leader nor no-leader: ${leader.background.stdout()}`);
  }

  it('the Go leader leads for the recipe too; its resignation elects the waiting recipe candidate, which Go then sees, proclaim included', async () => {
    const [etcd, cairn] = await pair.both((side) => withRecipes(side.server.endpoint, async (recipes) => {
      const endpoint = side.server.endpoint;
      const leases = new Map<string, string>();
      const named = (key: string): string => {
        const lease = key.slice('go-first/'.length);
        if (!leases.has(lease)) leases.set(lease, `<lease ${leases.size + 1}>`);
        return `go-first/${leases.get(lease)}`;
      };
      const seen = (leader: { key: string; value: string }): SeenLeader => ({ key: named(leader.key), value: leader.value });

      const observer = start(['observe', endpoint, 'go-first']);
      await observer.waitForEvent('observing');
      const seenByLeader$: Leader[] = [];
      let observing: Subscription | undefined;
      let campaigning: Subscription | undefined;
      try {
        observing = Election.leader$(recipes.client, 'go-first').subscribe((leader) => seenByLeader$.push(leader));
        const go = start(['elect', endpoint, 'go-first', 'go-1']);
        const goElected = await go.waitForEvent('elected');
        named(field(goElected, 'key'));

        const candidate = new Election(await recipes.session(), 'go-first');
        const states: Leadership[] = [];
        campaigning = candidate.campaign('recipe-1').subscribe((state) => states.push(state));
        await waitForKeys(recipes.client, 'go-first/', 2);
        await sleep(contendMs);
        const recipeWhileGoLeads = states.map((state) => state.state);
        const leaderForRecipe = seen(await Election.leader(recipes.client, 'go-first'));
        const leaderForGo = await goLeader(endpoint, 'go-first');

        go.stop();
        await go.waitForEvent('resigned');
        await eventually(() => states.some((state) => state.state === 'elected'), handOverMsMax, 'the recipe candidate to be elected');
        const leaderForGoAfter = await goLeader(endpoint, 'go-first');
        await candidate.proclaim('recipe-1b');
        await observer.background.waitForStdout((stdout) => stdout.includes('"recipe-1b"'), 'the proclaimed value');
        await eventually(() => seenByLeader$.some((leader) => leader.value === 'recipe-1b'), handOverMsMax, 'leader$ to see the proclaimed value');
        observer.stop();
        const goExits = await Promise.all([go.background.closed, observer.background.closed]);
        return {
          recipeWhileGoLeads,
          leaderForRecipe,
          leaderForGo: leaderForGo === 'no leader' ? leaderForGo : seen(leaderForGo),
          leaderForGoAfter: leaderForGoAfter === 'no leader' ? leaderForGoAfter : seen(leaderForGoAfter),
          goEvents: go.eventNames(),
          observedByGo: observer.events().filter((item) => item.event === 'leader').map((item) => seen({ key: field(item, 'key'), value: field(item, 'value') })),
          observedByLeader$: seenByLeader$.map(seen),
          goExits: goExits.map((exit) => exit.code),
        };
      } finally {
        campaigning?.unsubscribe();
        observing?.unsubscribe();
      }
    }));
    const goLeads = { key: 'go-first/<lease 1>', value: 'go-1' };
    const recipeLeads = { key: 'go-first/<lease 2>', value: 'recipe-1' };
    const recipeProclaimed = { key: 'go-first/<lease 2>', value: 'recipe-1b' };
    expect(etcd).to.deep.equal({
      recipeWhileGoLeads: ['campaigning'],
      leaderForRecipe: goLeads,
      leaderForGo: goLeads,
      leaderForGoAfter: recipeLeads,
      goEvents: ['session', 'elected', 'resigned'],
      observedByGo: [goLeads, recipeLeads, recipeProclaimed],
      observedByLeader$: [goLeads, recipeLeads, recipeProclaimed],
      goExits: [0, 0],
    });
    expect(cairn, 'Go leader, recipe candidate: cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
  });

  it('the recipe leader leads for Go too; when it resigns the waiting Go candidate leads, and after Go resigns there is no leader', async () => {
    const [etcd, cairn] = await pair.both((side) => withRecipes(side.server.endpoint, async (recipes) => {
      const endpoint = side.server.endpoint;
      const session = await recipes.session();
      const states: Leadership[] = [];
      const campaigning = new Election(session, 'recipe-first').campaign('recipe-2').subscribe((state) => states.push(state));
      try {
        await eventually(() => states.some((state) => state.state === 'elected'), handOverMsMax, 'the recipe candidate to be elected');
        const go = start(['elect', endpoint, 'recipe-first', 'go-2']);
        await go.waitForEvent('session');
        await waitForKeys(recipes.client, 'recipe-first/', 2);
        await sleep(contendMs);
        const goWhileRecipeLeads = go.eventNames();
        const leaderForGo = await goLeader(endpoint, 'recipe-first');

        campaigning.unsubscribe(); // resigns
        const goElected = await go.waitForEvent('elected', handOverMsMax);
        const leaderForRecipe = await Election.leader(recipes.client, 'recipe-first');
        go.stop();
        await go.waitForEvent('resigned');
        const goExit = await go.background.closed;
        const noLeaderForRecipe = await Election.leader(recipes.client, 'recipe-first').then(() => 'a leader', (error: unknown) => error instanceof NoLeaderElectedError);
        const leaderForGoAtEnd = await goLeader(endpoint, 'recipe-first');
        return {
          goWhileRecipeLeads,
          leaderForGo: leaderForGo === 'no leader' ? leaderForGo : { ours: leaderForGo.key === `recipe-first/${session.leaseHex}`, value: leaderForGo.value },
          leaderForRecipe: { goKey: leaderForRecipe.key === field(goElected, 'key'), value: leaderForRecipe.value, createRevision: leaderForRecipe.createRevision === BigInt(field(goElected, 'createRevision')) },
          goEvents: go.eventNames(),
          noLeaderForRecipe,
          leaderForGoAtEnd,
          goExit: goExit.code,
        };
      } finally {
        campaigning.unsubscribe();
      }
    }));
    expect(etcd).to.deep.equal({
      goWhileRecipeLeads: ['session'],
      leaderForGo: { ours: true, value: 'recipe-2' },
      leaderForRecipe: { goKey: true, value: 'go-2', createRevision: true },
      goEvents: ['session', 'elected', 'resigned'],
      noLeaderForRecipe: true,
      leaderForGoAtEnd: 'no leader',
      goExit: 0,
    });
    expect(cairn, 'recipe leader, Go candidate: cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
  });
});
