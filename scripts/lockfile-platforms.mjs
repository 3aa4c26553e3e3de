#!/usr/bin/env node
// Adds lock entries for optional platform packages that this machine's npm
// registry does not serve (e.g. @bufbuild/buf-darwin-arm64). `npm install`
// leaves them out of package-lock.json when it cannot fetch them, and then
// `npm ci` refuses the lock as out of sync. The entries carry os/cpu, so
// `npm ci` on Linux x64 skips them without fetching anything. Idempotent.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const platforms = {
  'darwin-arm64': [['darwin'], ['arm64']],
  'darwin-x64': [['darwin'], ['x64']],
  'linux-arm': [['linux'], ['arm']],
  'linux-armv7': [['linux'], ['arm']],
  'linux-arm64': [['linux'], ['arm64']],
  'linux-aarch64': [['linux'], ['arm64']],
  'linux-x64': [['linux'], ['x64']],
  'win32-arm64': [['win32'], ['arm64']],
  'win32-x64': [['win32'], ['x64']],
};

const added = [];
for (const [parentPath, parent] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(parent.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (key in lock.packages) continue;
    const platform = Object.keys(platforms).find((suffix) => name.endsWith(`-${suffix}`));
    if (platform === undefined) throw new Error(`${parentPath}: optional ${name} is not a platform package; install it instead`);
    const [os, cpu] = platforms[platform];
    lock.packages[key] = { version, cpu, optional: true, os, ...(parent.dev ? { dev: true } : {}) };
    added.push(name);
  }
}
if (added.length > 0) {
  const entries = Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  lock.packages = Object.fromEntries(entries);
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
}
console.log(added.length > 0 ? `lockfile: added ${added.join(', ')}` : 'lockfile: complete');
