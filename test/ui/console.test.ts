// The web console in a real browser (Debian's Chromium, headless, driven by
// playwright-core) against a real cairn, with etcdctl making changes beside
// it: what the page shows must be what the server holds, live.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { artifactPath, chromiumAvailable, launchChromium } from '../harness/browser.js';
import { etcdctl } from '../harness/etcdctl.js';
import { putThroughGateway } from '../harness/gateway-puts.js';
import { etcdctlAvailable, startCairn, type ServerHandle } from '../harness/launcher.js';

const waitMs = 10_000;
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

describe('ui: the web console in Chromium', function () {
  this.timeout(120_000);
  let server: ServerHandle | undefined;
  let browser: Browser | undefined;
  const pages: Page[] = [];

  before(async function () {
    if (!chromiumAvailable() || !etcdctlAvailable()) this.skip();
    server = await startCairn();
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
  });

  after(async () => {
    await browser?.close();
    await server?.destroy();
  });

  const cairn = (): ServerHandle => {
    if (server === undefined) throw new Error('no server');
    return server;
  };

  /** A new page at `hash` of the console, failing the test on any error the page's scripts throw. */
  async function open(hash: string, viewport = { width: 1280, height: 800 }, options: { bypassCsp?: boolean } = {}): Promise<Page> {
    if (browser === undefined) throw new Error('no browser');
    // Only axe's injected script needs the page's Content-Security-Policy set aside.
    const page = await browser.newPage({ viewport, bypassCSP: options.bypassCsp === true });
    pages.push(page);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('close', () => expect(errors, 'errors thrown in the page').to.deep.equal([]));
    await page.goto(`${cairn().clientUrl}/ui/${hash}`);
    return page;
  }

  const keyHash = (key: string): string => `#/keys?key=${encodeURIComponent(Buffer.from(key).toString('base64'))}`;

  async function put(key: string, value: string, flags: string[] = []): Promise<void> {
    const result = await etcdctl(cairn().endpoint, ['put', key, value, ...flags]);
    expect(result.code, result.stderr).to.equal(0);
  }

  /** The key's value and version as etcdctl reads them; undefined when it does not exist. */
  async function read(key: string): Promise<{ value: string; version: number } | undefined> {
    const result = await etcdctl(cairn().endpoint, ['get', key, '-w', 'json']);
    expect(result.code, result.stderr).to.equal(0);
    const kv = (JSON.parse(result.stdout) as { kvs?: Array<{ value: string; version: number }> }).kvs?.[0];
    return kv === undefined ? undefined : { value: Buffer.from(kv.value, 'base64').toString(), version: kv.version };
  }

  /** Puts many keys fast, through the JSON gateway: transactions of 128 puts (etcd's --max-txn-ops). */
  async function revision(): Promise<number> {
    const result = await etcdctl(cairn().endpoint, ['endpoint', 'status', '-w', 'json']);
    return (JSON.parse(result.stdout) as Array<{ Status: { header: { revision: number } } }>)[0]?.Status.header.revision ?? 0;
  }

  const textarea = (page: Page) => page.getByLabel('Value', { exact: true });

  it('lists the keyspace as a tree of folders, and opens a bookmarked key down to it', async () => {
    await put('/tree/app/config', '{"replicas":3,"zones":["a","b"]}');
    await put('/tree/app/db/url', 'postgres://db');
    await put('/tree/app/name', 'cairn');
    const page = await open(keyHash('/tree/app/config'));
    const config = page.getByRole('link', { name: 'config', exact: true });
    await config.waitFor({ timeout: waitMs });
    expect(await config.getAttribute('aria-current')).to.equal('true');
    expect(await page.getByRole('button', { name: 'app/', exact: true }).getAttribute('aria-expanded')).to.equal('true');
    expect(await page.getByRole('button', { name: 'db/', exact: true }).getAttribute('aria-expanded')).to.equal('false');
    await page.getByRole('link', { name: 'name', exact: true }).waitFor({ timeout: waitMs });
    await valueShown(page, (value) => value.includes('"replicas": 3'));
    expect(await textarea(page).inputValue()).to.equal('{\n  "replicas": 3,\n  "zones": [\n    "a",\n    "b"\n  ]\n}');
    expect(await page.getByRole('radio', { name: 'JSON' }).isChecked()).to.equal(true);
    // Opening a folder with the keyboard lists it.
    await page.getByRole('button', { name: 'db/', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'url', exact: true }).waitFor({ timeout: waitMs });
    await page.screenshot({ path: artifactPath('console', 'keys') });
  });

  it('creates, edits and deletes a key, each after a confirmation, and etcdctl reads each change', async () => {
    const page = await open('#/keys?new=1');
    await page.getByLabel('Key', { exact: true }).fill('/crud/greeting');
    await page.getByLabel('Value', { exact: true }).fill('hello');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ timeout: waitMs });
    await page.screenshot({ path: artifactPath('console', 'create-confirm') });
    // Cancel writes nothing.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await read('/crud/greeting')).to.equal(undefined);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: '/crud/greeting' }).waitFor({ timeout: waitMs });
    expect(await read('/crud/greeting')).to.deep.equal({ value: 'hello', version: 1 });

    // JSON is checked before it can be saved.
    await page.getByRole('radio', { name: 'JSON' }).check();
    await textarea(page).fill('{"greeting": ');
    await page.getByText(/^Not valid JSON: /).waitFor({ timeout: waitMs });
    expect(await page.getByRole('button', { name: 'Save' }).isDisabled()).to.equal(true);
    await textarea(page).fill('{"greeting": "hello again"}');
    await page.getByText('Valid JSON.').waitFor({ timeout: waitMs });
    await page.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^Saved at revision \d+\.$/).waitFor({ timeout: waitMs });
    expect(await read('/crud/greeting')).to.deep.equal({ value: '{"greeting": "hello again"}', version: 2 });

    await page.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText(/^Deleted at revision \d+\.$/).waitFor({ timeout: waitMs });
    expect(await read('/crud/greeting')).to.equal(undefined);
    await page.getByRole('link', { name: 'greeting', exact: true }).waitFor({ state: 'detached', timeout: waitMs });
  });

  it('shows what etcdctl changes as it happens: a new key in an open folder, the open key\'s value, a deleted key', async () => {
    await put('/live/a', 'first');
    const page = await open(keyHash('/live/a'));
    await valueShown(page, (value) => value === 'first');
    await page.getByText(/Live at revision/).waitFor({ timeout: waitMs });
    await observeLayoutShift(page);

    await put('/live/b', 'new key');
    await page.getByRole('link', { name: 'b', exact: true }).waitFor({ timeout: waitMs });
    await put('/live/a', 'second');
    await valueShown(page, (value) => value === 'second');
    const modRevision = await page.locator('.meta div', { hasText: 'Mod revision' }).locator('dd').textContent();
    expect(Number(modRevision)).to.equal(await revision());
    await etcdctl(cairn().endpoint, ['del', '/live/b']);
    await page.getByRole('link', { name: 'b', exact: true }).waitFor({ state: 'detached', timeout: waitMs });
    // A folder whose last key goes leaves the tree.
    await put('/live/sub/only', 'x');
    await page.getByRole('button', { name: 'sub/', exact: true }).waitFor({ timeout: waitMs });
    await etcdctl(cairn().endpoint, ['del', '/live/sub/only']);
    await page.getByRole('button', { name: 'sub/', exact: true }).waitFor({ state: 'detached', timeout: waitMs });
    expect(await layoutShift(page)).to.be.lessThan(0.01);
  });

  it('refuses to save over a change made elsewhere since the key was opened', async () => {
    await put('/conflict/k', 'original');
    const page = await open(keyHash('/conflict/k'));
    await valueShown(page, (value) => value === 'original');
    await textarea(page).fill('my edit');
    await put('/conflict/k', 'theirs');
    await page.getByText(/changed at revision \d+ while you were editing/).waitFor({ timeout: waitMs });
    expect(await textarea(page).inputValue()).to.equal('my edit');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await page.getByText('Not written: the key changed since you opened it. Its current value is shown.').waitFor({ timeout: waitMs });
    expect(await read('/conflict/k')).to.deep.equal({ value: 'theirs', version: 2 });
    expect(await textarea(page).inputValue()).to.equal('theirs');
  });

  it('lists a folder of 1,000 keys a page at a time', async () => {
    const keys = Array.from({ length: 1_000 }, (_, i) => `/many/k${String(i).padStart(4, '0')}`);
    await putThroughGateway(cairn().clientUrl, keys, 'v');
    const page = await open('#/keys');
    await page.getByRole('button', { name: '/', exact: true }).click();
    await page.getByRole('button', { name: 'many/', exact: true }).click();
    const entries = page.locator('a.entry.key', { hasText: /^k\d{4}$/ });
    await page.getByRole('link', { name: 'k0199', exact: true }).waitFor({ timeout: waitMs });
    expect(await entries.count()).to.equal(200);
    await page.getByRole('button', { name: 'Show more' }).click();
    await page.getByRole('link', { name: 'k0399', exact: true }).waitFor({ timeout: waitMs });
    expect(await entries.count()).to.equal(400);
    expect(await page.getByRole('link', { name: 'k0400', exact: true }).count()).to.equal(0);
  });

  it('streams a prefix\'s events on the watch page, holds them while paused, and filters puts and deletes', async () => {
    const page = await open('#/watch');
    await page.getByLabel('Key').fill('/watched/');
    await page.getByLabel('Prefix').check();
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByText('Watching from now.').waitFor({ timeout: waitMs });
    await observeLayoutShift(page);
    const first = (await revision()) + 1;
    await put('/watched/a', 'one');
    const rows = page.locator('.events tbody tr');
    await rows.filter({ hasText: '/watched/a' }).waitFor({ timeout: waitMs });
    expect(await rows.first().locator('td').allTextContents()).to.deep.equal([String(first), 'PUT', '/watched/a', 'one']);

    await page.getByRole('button', { name: 'Pause' }).click();
    await put('/watched/b', 'two');
    await page.getByText('1 held', { exact: true }).waitFor({ timeout: waitMs });
    expect(await rows.count()).to.equal(1);
    await page.getByRole('button', { name: 'Resume' }).click();
    await rows.filter({ hasText: '/watched/b' }).waitFor({ timeout: waitMs });

    await etcdctl(cairn().endpoint, ['del', '/watched/a']);
    await rows.filter({ hasText: 'DELETE' }).waitFor({ timeout: waitMs });
    await page.getByLabel('Deletes').uncheck();
    expect(await rows.filter({ hasText: 'DELETE' }).count()).to.equal(0);
    expect(await rows.count()).to.equal(2);
    await page.getByLabel('Puts').uncheck();
    await page.getByLabel('Deletes').check();
    expect(await rows.allTextContents()).to.have.length(1);
    await page.getByLabel('Puts').check();
    await putThroughGateway(cairn().clientUrl, Array.from({ length: 40 }, (_, i) => `/watched/burst${i}`), 'x'.repeat(300));
    await rows.filter({ hasText: '/watched/burst39' }).waitFor({ timeout: waitMs });
    expect(await layoutShift(page)).to.be.lessThan(0.01);
    await page.screenshot({ path: artifactPath('console', 'watch') });

    // From a revision: the history replays.
    await page.getByLabel('From revision').fill(String(first));
    await page.getByRole('button', { name: 'Restart' }).click();
    await page.getByText(`Watching from revision ${first}.`).waitFor({ timeout: waitMs });
    await rows.filter({ hasText: '/watched/burst39' }).waitFor({ timeout: waitMs });
    expect(await rows.first().locator('td').allTextContents()).to.deep.equal([String(first), 'PUT', '/watched/a', 'one']);
  });

  it('has no serious or critical accessibility violations (axe-core, WCAG 2 A and AA) on its pages', async () => {
    await put('/a11y/key', '{"a":1}');
    for (const hash of [keyHash('/a11y/key'), '#/keys?new=1', '#/watch', '#/leases', '#/coordination', '#/cluster']) {
      const page = await open(hash, undefined, { bypassCsp: true });
      await page.locator('.loading').first().waitFor({ state: 'detached', timeout: waitMs }).catch(() => undefined);
      await page.getByRole('heading').first().waitFor({ timeout: waitMs });
      await page.addScriptTag({ path: axePath });
      const violations = await page.evaluate<Array<{ id: string; impact: string; nodes: number }>>(`axe
        .run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
        .then((result) => result.violations.map((violation) => ({ id: violation.id, impact: violation.impact, nodes: violation.nodes.length })))`);
      expect(violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical'), hash).to.deep.equal([]);
    }
  });

  it('fits a phone\'s width without sideways scrolling', async () => {
    await put('/phone/a-rather-long-key-name-that-might-push-the-layout-wider-than-a-phone', 'value');
    for (const hash of [keyHash('/phone/a-rather-long-key-name-that-might-push-the-layout-wider-than-a-phone'), '#/watch']) {
      const page = await open(hash, { width: 390, height: 844 });
      await page.getByRole('heading').first().waitFor({ timeout: waitMs });
      await page.waitForTimeout(300);
      const widths = await page.evaluate<{ scroll: number; client: number }>('({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })');
      expect(widths.scroll, hash).to.be.at.most(widths.client);
      if (hash.startsWith('#/keys')) await page.screenshot({ path: artifactPath('console', 'keys-phone') });
    }
  });

  it('shows a lease with its keys counting down until it expires, and revokes one after a confirmation', async () => {
    const page = await open('#/leases');
    await page.getByRole('heading', { name: 'Leases' }).waitFor({ timeout: waitMs });
    const granted = await etcdctl(cairn().endpoint, ['lease', 'grant', '4']);
    const id = /^lease ([0-9a-f]+) granted/.exec(granted.stdout)?.[1];
    expect(id, granted.stdout).to.be.a('string');
    await put('/leased/a', 'v', ['--lease', id as string]);
    const row = page.locator(`tr[data-lease="${id}"]`);
    await row.getByRole('link', { name: '/leased/a' }).waitFor({ timeout: waitMs });
    const ttlAt = async (): Promise<number> => Number(/^(\d+) s/.exec((await row.locator('td.ttl').textContent()) ?? '')?.[1]);
    const first = await ttlAt();
    expect(first).to.be.within(1, 4);
    await page.screenshot({ path: artifactPath('console', 'leases') });
    await page.waitForTimeout(1_300);
    expect(await ttlAt()).to.be.lessThan(first);
    // It expires: the lease leaves the page, and its key the store (the revoke that expiry proposes may land a moment later).
    await row.waitFor({ state: 'detached', timeout: 15_000 });
    await eventually(async () => (await read('/leased/a')) === undefined, 'the expired lease\'s key is deleted');

    const long = /^lease ([0-9a-f]+) granted/.exec((await etcdctl(cairn().endpoint, ['lease', 'grant', '600'])).stdout)?.[1] as string;
    await put('/leased/b', 'v', ['--lease', long]);
    const longRow = page.locator(`tr[data-lease="${long}"]`);
    await longRow.getByRole('link', { name: '/leased/b' }).waitFor({ timeout: waitMs });
    await longRow.getByRole('button', { name: `Revoke lease ${long}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await longRow.waitFor({ state: 'detached', timeout: waitMs });
    expect(await read('/leased/b')).to.equal(undefined);
    const gone = await etcdctl(cairn().endpoint, ['lease', 'timetolive', long]);
    expect(gone.stdout.trim()).to.equal(`lease ${long} already expired`);
  });

  // Last: it compacts the store.
  it('shows a key\'s history with a diff between two revisions, back to the last compaction', async () => {
    await put('/history/h', '{"step":1}');
    await put('/history/h', '{"step":2}');
    await put('/history/h', '{"step":3}');
    const page = await open(keyHash('/history/h'));
    await page.getByRole('button', { name: 'History', exact: true }).click();
    const rows = page.locator('.history tbody tr');
    await page.getByText('The oldest row is the key’s creation.').waitFor({ timeout: waitMs });
    expect(await rows.count()).to.equal(3);
    expect(await page.locator('.diff ins').allTextContents()).to.deep.equal(['  "step": 3\n']);
    expect(await page.locator('.diff del').allTextContents()).to.deep.equal(['  "step": 2\n']);
    await rows.nth(2).getByLabel('from').check();
    expect(await page.locator('.diff del').allTextContents()).to.deep.equal(['  "step": 1\n']);
    await page.screenshot({ path: artifactPath('console', 'history'), fullPage: true });

    const compacted = await etcdctl(cairn().endpoint, ['compact', String(await revision())]);
    expect(compacted.code, compacted.stderr).to.equal(0);
    const after = await open(keyHash('/history/h'));
    await after.getByRole('button', { name: 'History', exact: true }).click();
    await after.getByText('Older revisions are compacted.').waitFor({ timeout: waitMs });
    expect(await after.locator('.history tbody tr').count()).to.equal(1);
  });
});

/** Resolves once `holds` does (asked every 100 ms), or throws after `waitMs` naming `what`. */
async function eventually(holds: () => Promise<boolean>, what: string): Promise<void> {
  for (const started = Date.now(); Date.now() - started < waitMs; await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (await holds()) return;
  }
  throw new Error(`never: ${what}`);
}

/** Waits until the value editor shows what `wanted` accepts. */
async function valueShown(page: Page, wanted: (value: string) => boolean): Promise<void> {
  const editor = page.locator('#value');
  await eventually(async () => (await editor.count()) > 0 && wanted(await editor.inputValue()), 'the value editor shows the value wanted');
}

/** Starts adding up the page's layout shifts (the Layout Instability API's cumulative score, shifts after input left out). */
async function observeLayoutShift(page: Page): Promise<void> {
  await page.evaluate(`
    window.layoutShift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.layoutShift += entry.value;
    }).observe({ type: 'layout-shift', buffered: false });
  `);
}

async function layoutShift(page: Page): Promise<number> {
  return page.evaluate<number>('window.layoutShift');
}
