// How the gateway reaches the member's gRPC services: as etcd's gateway, it
// is a gRPC client of its own member. The gRPC server also listens on a Unix
// socket in a directory only this user can enter, and the gateway's client
// dials it: no TCP port, no TLS to set up, and nobody else on the machine
// can reach the services without the client port's TLS checks.
//
// The directory is <data-dir>/member/gateway (the member holds the data
// directory's lock, so a socket left by a killed process is its own and is
// removed); where that path is too long for a socket (Linux takes 107
// bytes), a private directory under the system's temporary one.
import { Client, credentials } from '@grpc/grpc-js';
import type { GrpcServer } from '../../grpc/serving/server.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Room left in sockaddr_un.sun_path (108 bytes with its NUL), less a margin. */
const socketPathBytesMax = 100;

export class GatewayLoopback {
  private constructor(
    readonly client: Client,
    private readonly dir: string,
  ) {}

  /** Binds `server` on the private socket and dials it. */
  static async open(server: GrpcServer, memberDir: string): Promise<GatewayLoopback> {
    let dir = join(memberDir, 'gateway');
    if (Buffer.byteLength(join(dir, 'grpc.sock')) > socketPathBytesMax) {
      dir = mkdtempSync(join(tmpdir(), 'cairn-gateway-'));
    } else {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { mode: 0o700 });
    }
    const path = join(dir, 'grpc.sock');
    const target = `unix:${path}`;
    await server.listenUnix(path).catch((error: Error) => Promise.reject(new Error(`cannot serve the JSON gateway on ${target}: ${error.message}`)));
    const client = new Client(target, credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      'grpc.enable_channelz': 0,
    });
    return new GatewayLoopback(client, dir);
  }

  close(): void {
    this.client.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
