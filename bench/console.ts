// The web console on a large keyspace: a fresh cairn gets --keys keys (100,000
// by default, all in one folder, so that listing has to page), then Chromium
// opens the console's keys page. Reported: how long the page takes to load
// and to show the tree live, to open the big folder (its first page of
// entries), the bytes of the page's own files, and the member's resident
// memory: without the console, before and after --live-puts puts; with the
// console open, before and after as many more puts (each streamed to the
// page); and after it closed. The two growths side by side tell what the
// open console costs the member while writes go on.
// `npm run bench:console -- [flags]`
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../test/harness/browser.js';
import { putThroughGateway } from '../test/harness/gateway-puts.js';
import type { ServerHandle } from '../test/harness/launcher.js';
import { onCleanup, runProgram } from './cleanup.js';
import { integer } from './flags.js';
import { megabytes, parseProcStatus } from './memory-figures.js';
import { withServer } from './server.js';
import { captureEnvironment, describeEnvironment, formatNumber } from './table.js';

const usage = `usage: node dist/bench/console.js [flags]     (npm run bench:console -- [flags])
The web console on a large keyspace: page load, folder listing, and the member's memory with and without it.
  --keys N              keys in the store, all under /flat/ (default 100000)
  --value-bytes N       bytes per value (default 256)
  --live-puts N         puts made while the page is open, each streamed to it (default 5000)
  --settle-seconds N    idle time before each memory reading (default 5)
  --json                print one JSON document instead of a table`;

/** Transactions in flight while filling. */
const txnsInFlight = 8;
const pageWaitMs = 120_000;

interface Figures {
  keys: number;
  pageLoadMs: number;
  treeLiveMs: number;
  folderFirstPageMs: number;
  transferredBytes: number;
  residentMb: { withoutConsole: number; withoutConsoleAfterPuts: number; consoleOpen: number; consoleOpenAfterPuts: number; consoleClosed: number };
}

function resident(server: ServerHandle): number {
  return megabytes(parseProcStatus(readFileSync(`/proc/${server.pid}/status`, 'utf8')).residentBytes);
}

const settle = (seconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** `count` keys /flat/key-000000… through the JSON gateway, in transactions. */
/** Writes keys /flat/key-<first>… /flat/key-<first + count - 1> (six digits) through the gateway. */
function fill(server: ServerHandle, first: number, count: number, valueBytes: number): Promise<void> {
  const keys = Array.from({ length: count }, (_, i) => `/flat/key-${String(first + i).padStart(6, '0')}`);
  return putThroughGateway(server.clientUrl, keys, Buffer.alloc(valueBytes, 'v'), { txnsInFlight });
}

async function measure(page: Page, server: ServerHandle): Promise<Pick<Figures, 'pageLoadMs' | 'treeLiveMs' | 'folderFirstPageMs' | 'transferredBytes'>> {
  await page.goto(`${server.clientUrl}/ui/#/keys`, { waitUntil: 'load', timeout: pageWaitMs });
  await page.getByText(/Live at revision/).waitFor({ timeout: pageWaitMs });
  await page.getByRole('button', { name: '/', exact: true }).waitFor({ timeout: pageWaitMs });
  const timing = await page.evaluate<{ load: number; live: number; transferred: number }>(`(() => {
    const navigation = performance.getEntriesByType('navigation')[0];
    const resources = performance.getEntriesByType('resource');
    return {
      load: navigation.loadEventEnd,
      live: performance.now(),
      transferred: navigation.transferSize + resources.filter((entry) => entry.name.includes('/ui/assets/')).reduce((sum, entry) => sum + entry.transferSize, 0),
    };
  })()`);
  await page.getByRole('button', { name: '/', exact: true }).click();
  const opened = Date.now();
  await page.getByRole('button', { name: 'flat/', exact: true }).click();
  await page.getByRole('button', { name: 'Show more' }).waitFor({ timeout: pageWaitMs });
  return { pageLoadMs: timing.load, treeLiveMs: timing.live, folderFirstPageMs: Date.now() - opened, transferredBytes: timing.transferred };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      keys: { type: 'string' }, 'value-bytes': { type: 'string' }, 'live-puts': { type: 'string' },
      'settle-seconds': { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(usage);
  if (!chromiumAvailable()) throw new Error('Chromium is needed (apt-get install -y chromium)');
  const keys = integer('--keys', values.keys, 100_000, 1, 10_000_000);
  const valueBytes = integer('--value-bytes', values['value-bytes'], 256, 0, 1_000_000);
  const livePuts = integer('--live-puts', values['live-puts'], 5_000, 0, 10_000_000);
  const settleSeconds = integer('--settle-seconds', values['settle-seconds'], 5, 0, 3_600);
  const environment = captureEnvironment();
  const figures = await withServer('cairn', async (server): Promise<Figures> => {
    await fill(server, 0, keys, valueBytes);
    await settle(settleSeconds);
    const withoutConsole = resident(server);
    await fill(server, keys, livePuts, valueBytes);
    await settle(settleSeconds);
    const withoutConsoleAfterPuts = resident(server);
    const browser = await launchChromium();
    const closeBrowser = onCleanup(() => browser.close());
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const timings = await measure(page, server);
      await settle(settleSeconds);
      const consoleOpen = resident(server);
      await fill(server, keys + livePuts, livePuts, valueBytes);
      await page.getByText(new RegExp(`${keys + 2 * livePuts} keys`)).waitFor({ timeout: pageWaitMs });
      await settle(settleSeconds);
      const consoleOpenAfterPuts = resident(server);
      await closeBrowser();
      await settle(settleSeconds);
      return { keys, ...timings, residentMb: { withoutConsole, withoutConsoleAfterPuts, consoleOpen, consoleOpenAfterPuts, consoleClosed: resident(server) } };
    } finally {
      await closeBrowser();
    }
  });
  if (values.json) return void console.log(JSON.stringify({ environment, figures }, null, 2));
  console.log(describeEnvironment(environment));
  console.log(`console on ${figures.keys} keys in one folder (${valueBytes}-byte values):`);
  console.log(`  page loaded               ${formatNumber(figures.pageLoadMs, 0)} ms (its files: ${formatNumber(figures.transferredBytes / 1024, 1)} KiB transferred)`);
  console.log(`  tree listed and live      ${formatNumber(figures.treeLiveMs, 0)} ms after navigation`);
  console.log(`  folder's first 200 shown  ${formatNumber(figures.folderFirstPageMs, 0)} ms after the click`);
  console.log('  member resident memory:');
  const { residentMb: mb } = figures;
  console.log(`    without the console     ${formatNumber(mb.withoutConsole, 1)} MB, after ${livePuts} puts ${formatNumber(mb.withoutConsoleAfterPuts, 1)} MB (${formatNumber(mb.withoutConsoleAfterPuts - mb.withoutConsole, 1)} MB more)`);
  console.log(`    console open            ${formatNumber(mb.consoleOpen, 1)} MB, after ${livePuts} puts ${formatNumber(mb.consoleOpenAfterPuts, 1)} MB (${formatNumber(mb.consoleOpenAfterPuts - mb.consoleOpen, 1)} MB more)`);
  console.log(`    console closed          ${formatNumber(mb.consoleClosed, 1)} MB`);
}

runProgram('console', main);
