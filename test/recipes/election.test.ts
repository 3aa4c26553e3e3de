// Election against cairn and etcd: one leader at a time, failover when the
// leader's session dies, leader$ sees every change in order, and interop with
// `etcdctl elect` / `etcdctl elect -l`.
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import { Election, NotLeaderError, type Leader, type Leadership } from '../../recipes/index.js';
import { must } from '../harness/must.js';
import { EtcdctlProcesses } from '../interop/etcdctl-process.js';
import { eventually, Fixture, rejection, selectedTargets, sleep } from './support.js';

/** Campaigns and resolves when elected, keeping the candidacy (unsubscribing would resign) until `subscriptions` are torn down. */
function elected(campaign: ReturnType<Election['campaign']>, subscriptions: Subscription[]): Promise<Leadership> {
  return new Promise((resolve, reject) => {
    subscriptions.push(campaign.subscribe({ next: (state) => state.state === 'elected' && resolve(state), error: reject }));
  });
}

for (const target of selectedTargets()) {
  describe(`recipes: election against ${target.kind}`, function () {
    const fixture = new Fixture(target);
    const processes = new EtcdctlProcesses();
    const subscriptions: Subscription[] = [];

    before(async function () {
      if (!target.available()) return this.skip();
      await fixture.start();
    });
    afterEach(async () => {
      for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
      await processes.killAll();
    });
    after(async () => fixture.stop());

    it('elects one candidate at a time; resigning hands over; leader$ sees every change in order', async () => {
      const observer = await fixture.client();
      const seen: string[] = [];
      subscriptions.push(Election.leader$(observer, 'e1').subscribe((leader: Leader) => seen.push(leader.value)));
      const sessions = await Promise.all([fixture.session(), fixture.session(), fixture.session()]);
      const elections = sessions.map((session) => new Election(session, 'e1'));
      const candidates = elections.map((election, index) => {
        const states: Leadership[] = [];
        const campaign = election.campaign(`c${index}`).subscribe((state) => states.push(state));
        return { value: `c${index}`, election, states, campaign };
      });
      type Candidate = (typeof candidates)[number];
      subscriptions.push(...candidates.map((candidate) => candidate.campaign));
      const leads = (candidate: Candidate) => candidate.states.at(-1)?.state === 'elected';
      await eventually(() => candidates.some((candidate) => candidate.states.some((state) => state.state === 'elected')), 10_000, 'a leader');
      await sleep(200);
      const leaders = () => candidates.filter((candidate) => !candidate.campaign.closed && leads(candidate)).length;
      expect(leaders()).to.equal(1);
      const first = must(candidates.find(leads), 'the first leader');
      await first.election.proclaim(`${first.value}-v2`);
      first.campaign.unsubscribe(); // resigns
      await eventually(() => leaders() === 1, 10_000, 'the second leader');
      expect(leaders()).to.equal(1);
      const second = must(candidates.find((candidate) => !candidate.campaign.closed && leads(candidate)), 'the second leader');
      expect(await rejection(first.election.proclaim('nope'))).to.be.instanceOf(NotLeaderError);
      // leader$ reads the first-created key after each deletion (as etcd's Observe), so a leader
      // that resigns before the observer has caught up is skipped: let it see the second one first.
      await eventually(() => seen.includes(second.value), 5_000, 'leader$ to see the second leader');
      second.campaign.unsubscribe();
      const third = must(candidates.find((candidate) => candidate !== first && candidate !== second), 'the third candidate');
      await eventually(() => leads(third), 10_000, 'the third leader');
      await eventually(() => seen.length >= 4, 5_000, 'leader$ to see four changes');
      expect(seen).to.deep.equal([first.value, `${first.value}-v2`, second.value, third.value]);
      third.campaign.unsubscribe();
    });

    it('proclaim by a non-leader fails with NotLeaderError', async () => {
      const election = new Election(await fixture.session(), 'e2');
      expect(await rejection(election.proclaim('x'))).to.be.instanceOf(NotLeaderError);
    });

    it('fails over when the leader’s session dies, and the dead leader is told it lost', async () => {
      const admin = await fixture.client();
      const doomed = await fixture.session({ ttlSeconds: 3 });
      const heir = await fixture.session();
      const states: Leadership[] = [];
      subscriptions.push(new Election(doomed, 'e3').campaign('doomed').subscribe((state) => states.push(state)));
      await eventually(() => states.at(-1)?.state === 'elected', 10_000, 'doomed elected');
      const heirElected = elected(new Election(heir, 'e3').campaign('heir'), subscriptions);
      await admin.leases.revoke(doomed.lease);
      await heirElected;
      await eventually(() => states.at(-1)?.state === 'lost', 5_000, 'the dead leader to learn it lost');
      expect((await Election.leader(admin, 'e3')).value).to.equal('heir');
    });

    it('interop: etcdctl elect -l sees a cairn leader, and etcdctl elect takes over after it resigns', async function () {
      const client = await fixture.client();
      const session = await fixture.session({}, client);
      const campaign = new Election(session, 'shared-election').campaign('cairn-leader');
      const states: Leadership[] = [];
      const subscription = campaign.subscribe((state) => states.push(state));
      subscriptions.push(subscription);
      await eventually(() => states.at(-1)?.state === 'elected', 10_000, 'cairn elected');
      const observer = processes.start(fixture.server.endpoint, ['elect', '-l', 'shared-election']);
      await observer.waitForStdout((out) => out.includes(`shared-election/${session.leaseHex}\ncairn-leader\n`), 'the cairn leader');
      const seen: string[] = [];
      subscriptions.push(Election.leader$(client, 'shared-election').subscribe((leader) => seen.push(leader.value)));
      const candidate = processes.start(fixture.server.endpoint, ['elect', 'shared-election', 'etcdctl-leader']);
      await sleep(500);
      expect(candidate.stdout()).to.equal('');
      subscription.unsubscribe(); // resign
      await candidate.waitForStdout((out) => out.includes('etcdctl-leader'), 'etcdctl elected');
      await observer.waitForStdout((out) => out.includes('etcdctl-leader'), 'etcdctl -l to see the etcdctl leader');
      await eventually(() => seen.includes('etcdctl-leader'), 5_000, 'leader$ to see the etcdctl leader');
      expect(seen).to.deep.equal(['cairn-leader', 'etcdctl-leader']);
      // And back: a cairn candidate waits for etcdctl to resign.
      const next = elected(new Election(await fixture.session(), 'shared-election').campaign('cairn-again'), subscriptions);
      await sleep(300);
      await candidate.signal('SIGTERM');
      await next;
      await eventually(() => seen.at(-1) === 'cairn-again', 5_000, 'leader$ to see cairn again');
    });
  });
}
