// etcd's Go concurrency.Mutex (clientv3 3.4, in etcd-client) and cairn's
// Mutex recipe on the same lock name, against etcd and against cairn: both
// use the keys <name>/<lease hex> and wait for the key created just before
// theirs, so each excludes the other, in both directions, and holders follow
// one another in create-revision order.
import { expect } from 'chai';
import { Mutex, type HeldLock } from '../../../recipes/index.js';
import { compatPair } from '../../compat/pair.js';
import { must } from '../../harness/must.js';
import { EtcdctlProcesses, sleep } from '../etcdctl-process.js';
import { useGoClient } from './build.js';
import { field, startGoClient, type GoClientProcess } from './client-process.js';
import { waitForKeys, withRecipes } from './recipe-side.js';

/** How long a waiter is given to (wrongly) get the lock while the other holds it. */
const contendMs = 500;
/** A bound on any one wait for the lock in these scenarios. */
const lockWaitMsMax = 20_000;
/** Contention scenario: holders of each kind, and how long each holds. */
const holdersPerKind = 3;
const holdMs = 100;

interface Holding {
  kind: 'go' | 'recipe';
  fencingToken: bigint;
  fromMs: number;
  untilMs: number;
}

describe('interop: Go clientv3 concurrency.Mutex and the Mutex recipe', function () {
  this.timeout(60_000);
  const goClient = useGoClient();
  const pair = compatPair();
  const processes = new EtcdctlProcesses();
  afterEach(() => processes.killAll());

  const startMutex = (endpoint: string, name: string, holdMsArgument: number): GoClientProcess =>
    startGoClient(processes, goClient(), ['mutex', endpoint, name, String(holdMsArgument)]);

  it('a Go holder blocks the recipe until it unlocks; the recipe then holds with the next fencing token', async () => {
    const [etcd, cairn] = await pair.both((side) => withRecipes(side.server.endpoint, async (recipes) => {
      const go = startMutex(side.server.endpoint, 'go-first', -1);
      const goSession = await go.waitForEvent('session');
      const goAcquired = await go.waitForEvent('acquired');
      const mutex = new Mutex(await recipes.session(), 'go-first');
      let held: HeldLock | undefined;
      const locking = mutex.lock({ timeoutMs: lockWaitMsMax }).then((lock) => (held = lock));
      // Our key is queued behind Go's: the recipe is waiting, not failing.
      await waitForKeys(recipes.client, 'go-first/', 2);
      await sleep(contendMs);
      const heldWhileGoHeld = held !== undefined;
      go.stop();
      await go.waitForEvent('released');
      const lock = await locking;
      const goExit = await go.background.closed;
      await lock.unlock();
      const goRevision = BigInt(field(goAcquired, 'createRevision'));
      return {
        goEvents: go.eventNames(),
        goKeyIsSessionKey: field(goAcquired, 'key') === `go-first/${field(goSession, 'lease')}`,
        goHeaderIsCreate: BigInt(field(goAcquired, 'headerRevision')) === goRevision,
        heldWhileGoHeld,
        recipeTokenAfterGo: lock.fencingToken - goRevision,
        goExit: goExit.code,
      };
    }));
    expect(etcd).to.deep.equal({
      goEvents: ['session', 'acquired', 'releasing', 'released'],
      goKeyIsSessionKey: true,
      goHeaderIsCreate: true,
      heldWhileGoHeld: false,
      // The recipe's key was put right after Go's: it holds the next revision.
      recipeTokenAfterGo: 1n,
      goExit: 0,
    });
    expect(cairn, 'Go holder, recipe waiter: cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
  });

  it('a recipe holder blocks the Go mutex until it unlocks; Go then holds with the next fencing token', async () => {
    const [etcd, cairn] = await pair.both((side) => withRecipes(side.server.endpoint, async (recipes) => {
      const lock = await new Mutex(await recipes.session(), 'recipe-first').lock();
      const go = startMutex(side.server.endpoint, 'recipe-first', 0);
      await go.waitForEvent('session');
      await waitForKeys(recipes.client, 'recipe-first/', 2);
      await sleep(contendMs);
      const goWhileRecipeHeld = go.eventNames();
      await lock.unlock();
      const goAcquired = await go.waitForEvent('acquired', lockWaitMsMax);
      const goExit = await go.background.closed;
      const goRevision = BigInt(field(goAcquired, 'createRevision'));
      return {
        goWhileRecipeHeld,
        goEvents: go.eventNames(),
        goTokenAfterRecipe: goRevision - lock.fencingToken,
        // Go's Lock returns the header of the read that found its predecessor gone: the revision of our unlock.
        goHeaderAfterCreate: BigInt(field(goAcquired, 'headerRevision')) - goRevision,
        goExit: goExit.code,
      };
    }));
    expect(etcd).to.deep.equal({
      goWhileRecipeHeld: ['session'],
      goEvents: ['session', 'acquired', 'releasing', 'released'],
      goTokenAfterRecipe: 1n,
      goHeaderAfterCreate: 1n,
      goExit: 0,
    });
    expect(cairn, 'recipe holder, Go waiter: cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
  });

  it(`${holdersPerKind} Go and ${holdersPerKind} recipe holders contending: one at a time, in fencing-token order`, async () => {
    const [etcd, cairn] = await pair.both((side) => withRecipes(side.server.endpoint, async (recipes) => {
      const goHolders = Array.from({ length: holdersPerKind }, () => startMutex(side.server.endpoint, 'mixed', holdMs));
      const recipeHoldings = Array.from({ length: holdersPerKind }, async (): Promise<Holding> => {
        const mutex = new Mutex(await recipes.session(), 'mixed');
        const lock = await mutex.lock({ timeoutMs: lockWaitMsMax });
        const fromMs = Date.now();
        await sleep(holdMs);
        const untilMs = Date.now();
        await lock.unlock();
        return { kind: 'recipe', fencingToken: lock.fencingToken, fromMs, untilMs };
      });
      const recipeHeld = await Promise.all(recipeHoldings);
      const goExits = await Promise.all(goHolders.map((go) => go.background.closed));
      const goHeld = goHolders.map((go): Holding => {
        const acquired = must(go.events().find((item) => item.event === 'acquired'), `an "acquired" event: ${go.background.stderr()}`);
        const releasing = must(go.events().find((item) => item.event === 'releasing'), 'a "releasing" event');
        return { kind: 'go', fencingToken: BigInt(field(acquired, 'createRevision')), fromMs: Number(field(acquired, 'atMs')), untilMs: Number(field(releasing, 'atMs')) };
      });
      const byToken = [...recipeHeld, ...goHeld].sort((a, b) => (a.fencingToken < b.fencingToken ? -1 : a.fencingToken > b.fencingToken ? 1 : 0));
      const overlaps = byToken.slice(1).flatMap((holding, index) => {
        const previous = must(byToken[index], `holder ${index}`);
        return previous.untilMs <= holding.fromMs ? [] : [`${previous.kind} ${previous.fencingToken} until ${previous.untilMs} ms, ${holding.kind} ${holding.fencingToken} from ${holding.fromMs} ms`];
      });
      const tokens = new Set(byToken.map((holding) => holding.fencingToken));
      return {
        holders: byToken.map((holding) => holding.kind).sort(),
        distinctTokens: tokens.size,
        overlaps,
        goExits: goExits.map((exit) => exit.code),
      };
    }));
    expect(etcd).to.deep.equal({
      holders: [...Array<string>(holdersPerKind).fill('go'), ...Array<string>(holdersPerKind).fill('recipe')],
      distinctTokens: holdersPerKind * 2,
      overlaps: [],
      goExits: Array<number>(holdersPerKind).fill(0),
    });
    expect(cairn, 'mixed holders: cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
  });
});
