// A real browser for the console's tests: Debian's Chromium (package
// chromium), driven headless by playwright-core; no browser is downloaded.
// Screenshots go to test-artifacts/ at the repository's root.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repositoryRoot } from './sources.js';

/** Where Chromium is: CHROMIUM_BIN, or Debian's. */
export const chromiumPath = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Where tests leave what a person may want to look at (screenshots); not in git. */
export const artifactsDirectory = join(repositoryRoot, 'test-artifacts');

/**
 * For tests that need a browser: false (the caller skips) when Chromium is
 * missing locally; in CI, where its absence is a failure, throws.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(chromiumPath)) return true;
  const why = `Chromium is not installed at ${chromiumPath} (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI must have it`);
  console.warn(`    skipped: ${why}`);
  return false;
}

/**
 * Headless Chromium. The flags keep it off the network it has no business
 * with (this machine's, and many servers', has no internet): no background
 * requests, component updates or sync at start.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The path of a screenshot named `name` (a .png file under test-artifacts/`folder`). */
export function artifactPath(folder: string, name: string): string {
  const directory = join(artifactsDirectory, folder);
  mkdirSync(directory, { recursive: true });
  return join(directory, `${name}.png`);
}
