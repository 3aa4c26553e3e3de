import { expect } from 'chai';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { KVClient, type PutResponse } from '../proto/gen/etcdserverpb/rpc.js';
import { freePort } from '../test/harness/launcher.js';
import { repositoryRoot } from '../test/harness/sources.js';
import { ceilingTransports } from './ceiling-responder.js';

// The ceilings are only worth their figures if both responders answer a real gRPC client's Put as a server would.
describe('bench: ceiling responders', () => {
  for (const transport of ceilingTransports) {
    it(`${transport}: answers KV.Put over gRPC with a header whose revision counts the calls`, async () => {
      const port = await freePort();
      const child: ChildProcess = spawn(process.execPath, [join(repositoryRoot, 'dist', 'bench', 'ceiling-responder.js'), transport, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const client = new KVClient(`127.0.0.1:${port}`, credentials.createInsecure());
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout?.once('data', () => resolve());
          child.once('exit', (code) => reject(new Error(`responder exited ${code}`)));
        });
        const put = (): Promise<PutResponse> =>
          new Promise((resolve, reject) => client.put({ key: Buffer.from('k'), value: Buffer.from('v'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false }, (error: ServiceError | null, response: PutResponse) => (error ? reject(error) : resolve(response))));
        expect((await put()).header?.revision).to.equal(1n);
        expect((await put()).header?.revision).to.equal(2n);
      } finally {
        client.close();
        child.kill('SIGKILL');
        await exited;
      }
    });
  }
});
