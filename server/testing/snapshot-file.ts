// Test helper (not used by the server): a cairn snapshot file as
// `etcdctl snapshot save` writes one — a backend image (Backend.copyTo) and
// the SHA-256 of it — made from a temporary store that `fill` writes to.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { LeaseTable } from '../lease/table.js';
import { openTempStore, type TempStore } from './temp-store.js';

/** Writes the snapshot of what `fill` stores to `path`; returns the path. */
export async function writeSnapshotFile(path: string, fill: (temp: TempStore, leases: LeaseTable) => void | Promise<void>): Promise<string> {
  const temp = openTempStore();
  const copyDir = mkdtempSync(join(tmpdir(), 'cairn-snapshot-copy-'));
  try {
    await fill(temp, new LeaseTable(temp.backend, 0n));
    const image = readFileSync(await temp.backend.copyTo(copyDir));
    writeFileSync(path, Buffer.concat([image, createHash('sha256').update(image).digest()]));
    return path;
  } finally {
    rmSync(copyDir, { recursive: true, force: true });
    await temp.remove();
  }
}
