// A disk that starts failing (fsync answers EIO) stops the member at once
// (fail-stop): it acknowledges nothing it could not make durable, and
// restarted on a sound disk it has every put it acknowledged. The fault comes
// from a small preloaded library (fixtures/eio-shim.c, built here with the
// C compiler npm needs for native addons) that fails every fsync and
// fdatasync once a trigger file exists. etcd is not run: Go makes its system
// calls directly, past any preloaded library.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata } from '@grpc/grpc-js';
import { KVClient, PutRequest, RangeRequest, type RangeResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { startCairn, waitPidExit, type ServerHandle } from '../harness/launcher.js';

/** The fixture's source: beside this file's source, two levels above dist/test/cluster. */
const shimSource = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'cluster', 'fixtures', 'eio-shim.c');
const writers = 8;
const loadBeforeFaultMs = 1_000;
const exitWaitMs = 10_000;

function put(kv: KVClient, key: string): Promise<boolean> {
  return new Promise((resolve) => {
    kv.put(PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from(key) }), new Metadata(), { deadline: Date.now() + 5_000 }, (error) => resolve(error === null));
  });
}

function get(kv: KVClient, key: string): Promise<RangeResponse> {
  return new Promise((resolve, reject) => {
    kv.range(RangeRequest.fromPartial({ key: Buffer.from(key) }), new Metadata(), { deadline: Date.now() + 5_000 }, (error, response) => (error === null ? resolve(response as RangeResponse) : reject(error)));
  });
}

function build(directory: string): string | undefined {
  const library = join(directory, 'eio-shim.so');
  try {
    execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', library, shimSource, '-ldl'], { stdio: 'pipe' });
    return library;
  } catch (error) {
    const why = `cannot build the EIO fixture with cc: ${(error as Error).message.split('\n')[0]}`;
    if (process.env.CI === 'true') throw new Error(`${why}; CI has a C compiler (npm builds native addons with it)`);
    console.warn(`    skipped: ${why}`);
    return undefined;
  }
}

describe('cairn: a disk that fails fsync with EIO', function () {
  this.timeout(60_000);
  let directory = '';
  let library: string | undefined;
  let server: ServerHandle | undefined;

  before(function () {
    directory = mkdtempSync(join(tmpdir(), 'cairn-eio-'));
    library = build(directory);
    if (library === undefined) this.skip();
  });
  after(async () => {
    await server?.destroy();
    if (directory !== '') rmSync(directory, { recursive: true, force: true });
  });

  it('stops the member at the first failed fsync; restarted on a sound disk it has every acknowledged put', async () => {
    const trigger = join(directory, 'fail-now');
    const dataDir = join(directory, 'data');
    const failing = await startCairn({ dataDir, env: { LD_PRELOAD: library as string, CAIRN_EIO_TRIGGER: trigger } });
    server = failing;
    const kv = new KVClient(failing.endpoint, credentials.createInsecure());
    const acknowledged: string[] = [];
    let failed = 0;
    let running = true;
    const load = Array.from({ length: writers }, async (_, writer) => {
      for (let i = 0; running; i++) {
        const key = `eio/${writer}/${i}`;
        if (await put(kv, key)) acknowledged.push(key);
        else failed++;
        if (failed > 0) return; // the member is gone
      }
    });
    await new Promise((resolve) => setTimeout(resolve, loadBeforeFaultMs));
    const beforeFault = acknowledged.length;
    writeFileSync(trigger, '');
    const exited = await waitPidExit(failing.pid, exitWaitMs);
    running = false;
    await Promise.all(load);
    kv.close();
    expect(beforeFault, 'the load ran before the fault').to.be.above(50);
    expect(exited, `cairn still runs after fsync failed:\n${failing.output().slice(-2_000)}`).to.equal(true);
    expect(failing.output()).to.match(/"msg":"fatal: Error: EIO: i\/o error, f(data)?sync/);

    await failing.destroy(); // keeps dataDir: the caller owns it
    server = await startCairn({ dataDir });
    const reader = new KVClient(server.endpoint, credentials.createInsecure());
    try {
      for (const key of acknowledged) expect((await get(reader, key)).kvs[0]?.value.toString(), `acknowledged ${key}`).to.equal(key);
      expect(await put(reader, 'eio/after')).to.equal(true);
    } finally {
      reader.close();
    }
  });
});
