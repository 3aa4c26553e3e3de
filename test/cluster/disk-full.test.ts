// A full disk stops a member (fail-stop) instead of leaving it half-working,
// and loses no acknowledged write: moved to a disk with room, it restarts
// with every put it acknowledged. The data directory sits on a small tmpfs
// (mounting one needs root, as CI has). Run against etcd and cairn: etcd
// stops too ("cannot commit tx ... no space left on device"). etcd's tmpfs
// is larger because its WAL preallocates 64 MB segments, the next one ahead
// of time (with less room it may fail to start at all).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { KVClient, PutRequest, RangeRequest, type RangeResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { etcdAvailable, startCairn, startEtcd, waitPidExit, type ServerHandle, type ServerKind } from '../harness/launcher.js';

const tmpfsMiB: Record<ServerKind, number> = { cairn: 6, etcd: 200 };
const valueBytes: Record<ServerKind, number> = { cairn: 20_000, etcd: 200_000 };
/** More puts than fit: the disk fills long before. */
const putsMax = 2_000;
const exitWaitMs = 10_000;

function mount(dir: string, mebibytes: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mebibytes}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch (error) {
    const why = `cannot mount a tmpfs (root needed): ${(error as Error).message.split('\n')[0]}`;
    if (process.env.CI === 'true') throw new Error(`${why}; CI runs as root and must be able to`);
    console.warn(`    skipped: ${why}`);
    return false;
  }
}

function put(kv: KVClient, key: string, value: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    kv.put(PutRequest.fromPartial({ key: Buffer.from(key), value }), new Metadata(), { deadline: Date.now() + 5_000 }, (error) => resolve(error === null));
  });
}

function get(kv: KVClient, key: string): Promise<RangeResponse> {
  return new Promise((resolve, reject) => {
    kv.range(RangeRequest.fromPartial({ key: Buffer.from(key) }), new Metadata(), { deadline: Date.now() + 5_000 }, (error, response) => (error === null ? resolve(response as RangeResponse) : reject(error)));
  });
}

for (const kind of ['cairn', 'etcd'] as const) {
  describe(`${kind}: a full disk`, function () {
    this.timeout(120_000);
    let directory = '';
    let mountPoint = '';
    let mounted = false;
    let server: ServerHandle | undefined;

    before(function () {
      if (!etcdAvailable()) return this.skip();
      directory = mkdtempSync(join(tmpdir(), `${kind}-disk-full-`));
      mountPoint = join(directory, 'small');
      mkdirSync(mountPoint);
      mounted = mount(mountPoint, tmpfsMiB[kind]);
      if (!mounted) this.skip();
    });
    after(async () => {
      await server?.destroy();
      if (mounted) execFileSync('umount', [mountPoint]);
      if (directory !== '') rmSync(directory, { recursive: true, force: true });
    });

    it('stops the member with a fatal error; moved to a disk with room it has every acknowledged put', async () => {
      const start = kind === 'cairn' ? startCairn : startEtcd;
      const full = await start({ dataDir: join(mountPoint, 'data') });
      server = full;
      const value = Buffer.alloc(valueBytes[kind], 'x');
      const kv = new KVClient(full.endpoint, credentials.createInsecure());
      let acked = 0;
      try {
        while (acked < putsMax && (await put(kv, `full/${acked + 1}`, value))) acked++;
      } finally {
        kv.close();
      }
      expect(acked, 'the disk filled before every put was acknowledged').to.be.within(10, putsMax - 1);
      const exited = await waitPidExit(full.pid, exitWaitMs);
      expect(exited, `${kind} still runs on a full disk:\n${full.output().slice(-2_000)}`).to.equal(true);
      expect(full.output()).to.match(/no space left on device/i);
      if (kind === 'cairn') expect(full.output()).to.match(/"msg":"fatal: .*ENOSPC/);

      const roomy = join(directory, 'roomy');
      cpSync(join(mountPoint, 'data'), roomy, { recursive: true });
      await full.destroy();
      server = await start({ dataDir: roomy });
      const reader = new KVClient(server.endpoint, credentials.createInsecure());
      try {
        for (let index = 1; index <= acked; index++) {
          const read = await get(reader, `full/${index}`);
          expect(read.kvs[0]?.value.length, `acknowledged put full/${index} of ${acked}`).to.equal(value.length);
        }
        expect(await put(reader, 'full/after', Buffer.from('room again'))).to.equal(true);
      } finally {
        reader.close();
      }
    });
  });
}
