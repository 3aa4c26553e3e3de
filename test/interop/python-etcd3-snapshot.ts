// What a snapshot file written by python-etcd3's client.snapshot(file) shows,
// in a form equal for etcd's file and cairn's when both hold the same
// history. The client writes the streamed chunks as they come and checks
// nothing, so the framing is checked here: the backend image, then the
// SHA-256 of it (etcdctl checks the same before it saves a file).
//
// Each file is read by its own server's status tool: `etcdctl snapshot
// status` for etcd's (bbolt), `cairn snapshot status` for cairn's, whose
// image is lmdb, which etcdctl cannot read (docs/operations.md). Both print
// the same four fields; the hash and the key count run over different
// backends and differ by design, the revision must not.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runCairn, type CommandResult } from '../harness/command.js';
import { etcdctlOffline } from '../harness/etcdctl.js';
import type { SideName } from '../compat/pair.js';

const trailerBytes = 32;
const pageBytes = 512;

export interface SnapshotFacts {
  framing: 'SHA-256 trailer' | 'no trailer' | 'trailer is not the SHA-256 of the image';
  /** The revision the status tool reads, relative to `base`. */
  revision: number;
  /** The fields of the status tool's JSON. */
  fields: string[];
}

export async function snapshotFacts(side: SideName, file: string, base: number): Promise<SnapshotFacts> {
  const args = ['snapshot', 'status', file, '-w', 'json'];
  const status: CommandResult = side === 'etcd' ? await etcdctlOffline(args) : await runCairn(args);
  expect(status.code, `${side}: snapshot status: ${status.stderr}`).to.equal(0);
  const parsed = JSON.parse(status.stdout) as Record<string, number>;
  return { framing: framing(readFileSync(file)), revision: Number(parsed['revision']) - base, fields: Object.keys(parsed).sort() };
}

function framing(file: Buffer): SnapshotFacts['framing'] {
  if (file.length % pageBytes !== trailerBytes) return 'no trailer';
  const image = file.subarray(0, file.length - trailerBytes);
  const trailer = file.subarray(file.length - trailerBytes);
  return createHash('sha256').update(image).digest().equals(trailer) ? 'SHA-256 trailer' : 'trailer is not the SHA-256 of the image';
}
