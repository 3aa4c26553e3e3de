// The console on a member with auth on, and over TLS, in Chromium: it logs
// in, keeps nothing but the session token, and sees only what the user may
// read — because the member's permission checks answer its calls.
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { artifactPath, chromiumAvailable, launchChromium } from '../harness/browser.js';
import { etcdctl, etcdctlEach } from '../harness/etcdctl.js';
import { etcdctlAvailable, startCairn, type ServerHandle } from '../harness/launcher.js';
import { makeTlsFiles, type TlsFiles } from '../harness/tls-fixture.js';

const waitMs = 10_000;
const keyHash = (key: string, root: string): string => `#/keys?root=${encodeURIComponent(root)}&key=${encodeURIComponent(Buffer.from(key).toString('base64'))}`;

describe('ui: the console with auth on, over TLS', function () {
  this.timeout(120_000);
  let server: ServerHandle | undefined;
  let browser: Browser | undefined;
  let tls: TlsFiles | undefined;
  /** One context per page: each its own tab's storage, as a new browser window. */
  const contexts: BrowserContext[] = [];

  before(async function () {
    if (!chromiumAvailable() || !etcdctlAvailable()) this.skip();
    tls = makeTlsFiles();
    server = await startCairn({ tls: { certFile: tls.serverCertFile, keyFile: tls.serverKeyFile, probe: { caFile: tls.caFile } } });
    const ca = ['--cacert', tls.caFile];
    await etcdctlEach(server.endpoint, [
      ['put', '/app/config', '{"replicas":3}'], ['put', '/secret/key', 'hidden'],
      ['user', 'add', 'root:rootpw'], ['user', 'grant-role', 'root', 'root'],
      ['role', 'add', 'app'], ['role', 'grant-permission', 'app', 'readwrite', '/app/', '--prefix=true'],
      ['user', 'add', 'alice:alicepw'], ['user', 'grant-role', 'alice', 'app'],
      ['auth', 'enable'],
    ], ca);
    browser = await launchChromium();
  });

  afterEach(() => Promise.all(contexts.splice(0).map((context) => context.close())));

  after(async () => {
    await browser?.close();
    if (tls !== undefined) rmSync(tls.dir, { recursive: true, force: true });
    await server?.destroy();
  });

  /** A page of the console over https (the test CA is not the browser's: its errors are ignored, nothing else). */
  async function open(hash: string): Promise<Page> {
    const context = await (browser as Browser).newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${(server as ServerHandle).clientUrl}/ui/${hash}`);
    return page;
  }

  async function logIn(page: Page, user: string, password: string): Promise<void> {
    await page.getByLabel('User').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  it('is served over TLS and asks for a login; a wrong password gets etcd\'s refusal', async () => {
    expect((server as ServerHandle).clientUrl).to.match(/^https:\/\//);
    const page = await open('#/keys');
    await page.getByRole('heading', { name: 'Log in' }).waitFor({ timeout: waitMs });
    expect(await page.getByText('(etcdserver: user name is empty)').count()).to.equal(1);
    await logIn(page, 'alice', 'wrong');
    await page.getByText('etcdserver: authentication failed, invalid user ID or password').waitFor({ timeout: waitMs });
    await page.screenshot({ path: artifactPath('console', 'login') });
  });

  it('sees only what the user may read, writes where the user may, and keeps only the token', async () => {
    const page = await open('#/keys');
    await logIn(page, 'alice', 'alicepw');
    // Every key is more than alice may read: the member refuses, and the page asks where to start.
    await page.getByText('etcdserver: permission denied').first().waitFor({ timeout: waitMs });
    await page.getByLabel(/List from the prefix/).fill('/app/');
    await page.getByRole('button', { name: 'List', exact: true }).click();
    await page.getByRole('heading', { name: 'Keys under /app/' }).waitFor({ timeout: waitMs });
    await page.getByRole('link', { name: 'config', exact: true }).click();
    await page.getByRole('heading', { name: '/app/config' }).waitFor({ timeout: waitMs });
    expect(await page.locator('.session').textContent()).to.match(/^alice/);

    // A write inside the grant goes through the console, and etcdctl (as root) reads it.
    await page.getByLabel('Value', { exact: true }).fill('{"replicas":5}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^Saved at revision \d+\.$/).waitFor({ timeout: waitMs });
    const read = await etcdctl((server as ServerHandle).endpoint, ['--cacert', (tls as TlsFiles).caFile, '--user', 'root:rootpw', 'get', '/app/config', '--print-value-only']);
    expect(read.stdout.trim()).to.equal('{"replicas":5}');

    // Outside the grant the member says no, whatever the page asks (same tab: the token is this tab's).
    await page.goto(`${(server as ServerHandle).clientUrl}/ui/${keyHash('/secret/key', '/secret/')}`);
    await page.getByRole('heading', { name: 'Keys under /secret/' }).waitFor({ timeout: waitMs });
    await page.getByText('etcdserver: permission denied').first().waitFor({ timeout: waitMs });
    // The key's panel got the same refusal: no value editor, no value.
    expect(await page.locator('.key-pane .error').textContent()).to.equal('etcdserver: permission denied');
    expect(await page.locator('#value').count()).to.equal(0);
    await page.goBack();

    const stored = await page.evaluate<{ local: number; session: string[]; cookies: string }>(
      '({ local: localStorage.length, session: Object.keys(sessionStorage).sort(), cookies: document.cookie })',
    );
    expect(stored).to.deep.equal({ local: 0, session: ['cairn.console.token', 'cairn.console.user'], cookies: '' });
    expect(await page.evaluate<string>("sessionStorage.getItem('cairn.console.token')")).to.not.include('alicepw');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor({ timeout: waitMs });
    expect(await page.evaluate<number>('sessionStorage.length')).to.equal(0);
  });
});
