// Maintenance.Snapshot side by side: `etcdctl snapshot save` against etcd and
// cairn. Both stream their backend in chunks and end with the SHA-256 of what
// they sent, which etcdctl checks (a file of size % 512 == 32) before it
// saves the file. The images differ in format (etcd's bbolt, cairn's lmdb);
// what they must share is the framing and the checksum.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdctl } from '../harness/etcdctl.js';
import { compatPair } from './pair.js';

describe('compat: etcdctl snapshot save', function () {
  const pair = compatPair();
  let directory = '';

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'cairn-snapshot-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('both send a backend image with its SHA-256 at the end, which etcdctl checks and saves', async function () {
    this.timeout(60_000);
    const value = 'x'.repeat(1_000);
    await pair.putAll(Array.from({ length: 200 }, (_, i) => [`snap/${i}`, value] as const));
    for (const server of [pair.etcd, pair.cairn]) {
      const path = join(directory, `${server.kind}.db`);
      const result = await etcdctl(server.endpoint, ['snapshot', 'save', path], { timeoutMs: 30_000 });
      expect(result.code, `${server.kind}: ${result.stderr}`).to.equal(0);
      expect(result.stdout).to.equal(`Snapshot saved at ${path}\n`);
      const file = readFileSync(path);
      expect(file.length % 512, `${server.kind}: size % 512`).to.equal(32);
      const body = file.subarray(0, file.length - 32);
      expect(createHash('sha256').update(body).digest().equals(file.subarray(file.length - 32)), `${server.kind}: the trailer is the SHA-256 of the image`).to.equal(true);
      expect(body.length, `${server.kind}: the image holds the 200 KB written`).to.be.greaterThan(200_000);
    }
  });
});
