// The console's cluster page in Chromium against a real 3-member cairn
// cluster: every member's role, health and indexes, and a new leader shown
// after the old one is killed — pushed by the members, not polled.
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { artifactPath, chromiumAvailable, launchChromium } from '../harness/browser.js';
import { startCluster, type Cluster } from '../harness/cluster.js';

const waitMs = 15_000;

describe('ui: the console\'s cluster page on a 3-member cluster', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  let browser: Browser | undefined;

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    cluster = await startCluster('cairn', { size: 3 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await cluster?.destroy();
  });

  it('shows each member\'s role and health, and the new leader after the leader is killed', async () => {
    if (cluster === undefined || browser === undefined) throw new Error('not started');
    const leader = await cluster.leader();
    const follower = cluster.members.find((member) => member !== leader);
    if (follower === undefined) throw new Error('no follower');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${follower.clientUrl}/ui/#/cluster`);

    const summary = page.locator('.cluster-summary');
    await summary.getByText(`Leader ${leader.name}`).waitFor({ timeout: waitMs });
    const rows = page.locator('table.members tbody tr');
    expect(await rows.count()).to.equal(3);
    for (const member of cluster.members) {
      const row = rows.filter({ hasText: member.clientUrl });
      await row.locator('td').nth(3).getByText('healthy').waitFor({ timeout: waitMs });
      expect(await row.locator('td').nth(2).textContent(), member.name).to.equal(member === leader ? 'leader' : 'follower');
      expect(Number(await row.locator('td').nth(5).textContent()), `${member.name}'s raft index`).to.be.greaterThan(0);
    }
    await page.screenshot({ path: artifactPath('console', 'cluster') });

    await leader.kill9();
    const survivors = cluster.members.filter((member) => member !== leader);
    const next = await cluster.leader(waitMs, survivors);
    await summary.getByText(`Leader ${next.name}`).waitFor({ timeout: waitMs });
    await rows.filter({ hasText: leader.clientUrl }).locator('td').nth(3).getByText('unreachable').waitFor({ timeout: waitMs });
    expect(await rows.filter({ hasText: next.clientUrl }).locator('td').nth(2).textContent()).to.equal('leader');
    const changes = await page.locator('.leader-changes li').allTextContents();
    expect(changes.length).to.be.at.least(2);
    expect(changes[0]).to.match(new RegExp(`term \\d+: ${next.name} leads$`));
    await page.screenshot({ path: artifactPath('console', 'cluster-after-failover') });
    await page.close();
    expect(errors).to.deep.equal([]);
  });
});
