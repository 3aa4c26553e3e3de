// Maintenance calls through the SDK against cairn and etcd: status of a named
// member, defragmentation, hashes of the key space at a revision, alarms
// listed and disarmed, and snapshots to a file, to a Node stream and as an
// Observable — each checked against its SHA-256 trailer, a corrupted one refused.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { credentials, InterceptingCall, ListenerBuilder, Metadata, RequesterBuilder, type Interceptor } from '@grpc/grpc-js';
import { lastValueFrom, take, toArray } from 'rxjs';
import {
  AlarmType,
  BadLeaderTransfereeError,
  CompactedError,
  connect,
  FutureRevisionError,
  InvalidOptionError,
  NoSpaceError,
  SnapshotChecksumError,
  type Client,
} from '../../client/index.js';
import { AlarmRequest, AlarmRequest_AlarmAction, AlarmType as WireAlarmType, MaintenanceClient, type SnapshotResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import type { ServerHandle } from '../harness/launcher.js';
import { rejection, selectedTargets } from './support.js';

/** Flips one bit of the first snapshot chunk the client receives. */
const corruptFirstSnapshotChunk: Interceptor = (options, nextCall) => {
  if (options.method_definition.path !== '/etcdserverpb.Maintenance/Snapshot') return new InterceptingCall(nextCall(options));
  let corrupted = false;
  return new InterceptingCall(nextCall(options), new RequesterBuilder()
    .withStart((metadata, listener, next) => {
      next(metadata, new ListenerBuilder().withOnReceiveMessage((message: SnapshotResponse, nextMessage) => {
        if (!corrupted && message.blob.length > 0) {
          corrupted = true;
          const blob = Buffer.from(message.blob);
          blob.writeUInt8(blob.readUInt8(0) ^ 1, 0);
          return nextMessage({ ...message, blob });
        }
        nextMessage(message);
      }).build());
      void listener;
    })
    .build());
};

/** Raises an alarm the SDK does not raise itself (etcd raises NOSPACE when the quota is reached). */
function raiseAlarm(endpoint: string, memberId: bigint): Promise<void> {
  const raw = new MaintenanceClient(endpoint, credentials.createInsecure());
  const request = AlarmRequest.fromPartial({ action: AlarmRequest_AlarmAction.ACTIVATE, memberID: memberId, alarm: WireAlarmType.NOSPACE });
  return new Promise<void>((resolve, reject) => raw.alarm(request, new Metadata(), (error) => {
    raw.close();
    if (error === null) resolve();
    else reject(error);
  }));
}

/** Whether `bytes` end with the SHA-256 of everything before the last 32. */
function trailerMatches(bytes: Buffer): boolean {
  return createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest().equals(bytes.subarray(bytes.length - 32));
}

for (const target of selectedTargets()) {
  describe(`sdk maintenance against ${target.kind}`, function () {
    let server: ServerHandle;
    let client: Client;
    let directory: string;

    before(async function () {
      if (!target.available()) return this.skip();
      server = await target.start();
      client = await connect({ endpoints: [server.endpoint] });
      directory = mkdtempSync(join(tmpdir(), 'sdk-snapshot-'));
    });
    after(async () => {
      client?.close();
      await server?.destroy();
      if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
    });

    it('status of a named member, defragment, and moveLeader to an unknown member', async () => {
      const status = await client.maintenance.status({ endpoint: `http://${server.endpoint}` });
      expect(status.leader).to.equal(status.header.memberId);
      expect(status.dbSizeBytes > 0n).to.equal(true);
      expect(await rejection(client.maintenance.status({ endpoint: '127.0.0.1:1' }))).to.be.instanceOf(InvalidOptionError);
      await client.maintenance.defragment({ endpoint: server.endpoint });
      const after = await client.maintenance.status();
      expect(after.dbSizeInUseBytes <= after.dbSizeBytes).to.equal(true);
      expect(await rejection(client.maintenance.moveLeader(0x1234n))).to.be.instanceOf(BadLeaderTransfereeError);
    });

    it('hashes the key space at a revision: stable at that revision, changed by a write, refused once compacted', async () => {
      const written = await client.put('hash/a', '1');
      const first = await client.maintenance.hashKv(written.revision);
      expect((await client.maintenance.hashKv(written.revision)).hash).to.equal(first.hash);
      const later = await client.put('hash/b', '2');
      expect((await client.maintenance.hashKv()).hash).to.not.equal(first.hash);
      expect((await client.maintenance.hashKv(written.revision)).hash).to.equal(first.hash);
      expect(await rejection(client.maintenance.hashKv(later.revision + 100n))).to.be.instanceOf(FutureRevisionError);
      await client.compact(later.revision, { physical: true });
      // A revision at or below the compaction is gone (etcd's HashByRev: rev <= compactRev).
      expect(await rejection(client.maintenance.hashKv(later.revision))).to.be.instanceOf(CompactedError);
      await client.put('hash/c', '3');
      expect((await client.maintenance.hashKv()).compactRevision).to.equal(later.revision);
    });

    it('lists an alarm and disarms it: writes fail with NoSpaceError while it is raised', async () => {
      const memberId = (await client.maintenance.status()).header.memberId;
      expect(await client.maintenance.alarms()).to.deep.equal([]);
      await raiseAlarm(server.endpoint, memberId);
      expect(await client.maintenance.alarms()).to.deep.equal([{ memberId, alarm: AlarmType.NoSpace }]);
      expect(await rejection(client.put('alarm/k', 'x'))).to.be.instanceOf(NoSpaceError);
      expect(await client.maintenance.disarmAlarm()).to.deep.equal([{ memberId, alarm: AlarmType.NoSpace }]);
      expect(await client.maintenance.alarms()).to.deep.equal([]);
      expect(await client.maintenance.disarmAlarm({ memberId, alarm: AlarmType.NoSpace })).to.deep.equal([]);
      await client.put('alarm/k', 'x');
    });

    it('saves a snapshot to a file and to a Node stream, each ending with the SHA-256 of the bytes before it', async () => {
      await client.put('snap/k', 'v'.repeat(10_000));
      const path = join(directory, 'member.db');
      const saved = await client.maintenance.snapshot(path);
      const file = readFileSync(path);
      expect(saved.sizeBytes).to.equal(file.length);
      expect(saved.sha256.equals(file.subarray(file.length - 32))).to.equal(true);
      expect(trailerMatches(file)).to.equal(true);
      expect(existsSync(`${path}.part`)).to.equal(false);

      const sink = new PassThrough();
      const chunks: Buffer[] = [];
      sink.on('data', (chunk: Buffer) => chunks.push(chunk));
      const streamed = await client.maintenance.snapshot(sink);
      const bytes = Buffer.concat(chunks);
      expect(streamed.sizeBytes).to.equal(bytes.length);
      expect(trailerMatches(bytes)).to.equal(true);
      expect(sink.writableFinished).to.equal(true);
    });

    it('refuses a snapshot whose bytes do not match the trailer, leaving no file', async () => {
      const corrupting = await connect({ endpoints: [server.endpoint], interceptors: [corruptFirstSnapshotChunk] });
      try {
        const path = join(directory, 'corrupt.db');
        expect(await rejection(corrupting.maintenance.snapshot(path))).to.be.instanceOf(SnapshotChecksumError);
        expect(existsSync(path)).to.equal(false);
        expect(existsSync(`${path}.part`)).to.equal(false);
        const emitted = await rejection(lastValueFrom(corrupting.maintenance.snapshot$()));
        expect(emitted).to.be.instanceOf(SnapshotChecksumError);
      } finally {
        corrupting.close();
      }
    });

    it('snapshot$ is cold: it streams the whole snapshot, and unsubscribing early cancels the call', async () => {
      const calls = { started: 0, cancelled: 0 };
      const counting: Interceptor = (options, nextCall) => {
        if (options.method_definition.path !== '/etcdserverpb.Maintenance/Snapshot') return new InterceptingCall(nextCall(options));
        calls.started++;
        return new InterceptingCall(nextCall(options), new RequesterBuilder().withCancel((next) => {
          calls.cancelled++;
          next();
        }).build());
      };
      const observed = await connect({ endpoints: [server.endpoint], interceptors: [counting] });
      try {
        const snapshot = observed.maintenance.snapshot$();
        expect(calls.started).to.equal(0);
        const chunks = await lastValueFrom(snapshot.pipe(toArray()));
        expect(trailerMatches(Buffer.concat(chunks))).to.equal(true);
        expect(calls).to.deep.equal({ started: 1, cancelled: 0 });
        await lastValueFrom(snapshot.pipe(take(1)));
        expect(calls).to.deep.equal({ started: 2, cancelled: 1 });
      } finally {
        observed.close();
      }
    });
  });
}
