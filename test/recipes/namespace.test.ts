// Recipes given a namespaced client, against cairn and etcd: their keys stay
// inside the namespace (nested ones included), and the same recipe name in
// two namespaces is two independent recipes.
import { expect } from 'chai';
import { firstValueFrom, Subject } from 'rxjs';
import { Election, Mutex, Queue } from '../../recipes/index.js';
import { Fixture, selectedTargets } from './support.js';

for (const target of selectedTargets()) {
  describe(`recipes in namespaced clients against ${target.kind}`, function () {
    const fixture = new Fixture(target);

    before(async function () {
      if (!target.available()) return this.skip();
      await fixture.start();
    });
    after(async () => {
      await fixture.stop();
    });

    it('a mutex of the same name in two namespaces: each is taken at once, its key inside its namespace', async () => {
      const client = await fixture.client();
      const east = client.namespace('region/').namespace('east/');
      const west = client.namespace('region/').namespace('west/');
      const eastLock = await new Mutex(await fixture.session({}, east), 'jobs').lock({ timeoutMs: 5_000 });
      const westLock = await new Mutex(await fixture.session({}, west), 'jobs').lock({ timeoutMs: 5_000 });
      const keys = (await client.getRange({ prefix: 'region/' }, { keysOnly: true })).kvs.map((kv) => kv.key).sort();
      expect(keys).to.deep.equal([`region/east/${eastLock.key}`, `region/west/${westLock.key}`].sort());
      expect(eastLock.key.startsWith('jobs/')).to.equal(true);
      // The guard is a comparison of the view: it holds in a txn of the same view.
      const fenced = await east.txn().if(eastLock.guard()).commit();
      expect(fenced.succeeded).to.equal(true);
      await eastLock.unlock();
      await westLock.unlock();
    });

    it('an election and a queue in a nested namespace see only their own keys', async () => {
      const client = await fixture.client();
      const view = client.namespace('svc/').namespace('a/');
      const session = await fixture.session({}, view);
      const elected = new Subject<void>();
      const subscription = new Election(session, 'leader').campaign('me').subscribe((state) => {
        if (state.state === 'elected') elected.next();
      });
      await firstValueFrom(elected);
      const leader = await Election.leader(view, 'leader');
      expect(leader.value).to.equal('me');
      expect(leader.key.startsWith('leader/')).to.equal(true);
      expect(await client.get(`svc/a/${leader.key}`)).to.not.equal(undefined);
      subscription.unsubscribe();

      const outer = new Queue(client.namespace('svc/'), 'work');
      const inner = new Queue(view, 'work');
      await outer.enqueue('outer item');
      await inner.enqueue('inner item');
      expect(await inner.dequeue({ timeoutMs: 5_000 })).to.equal('inner item');
      expect(await outer.dequeue({ timeoutMs: 5_000 })).to.equal('outer item');
    });
  });
}
