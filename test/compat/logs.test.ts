// Structured logs, side by side: etcd 3.4 with --logger=zap and cairn with
// the same flags write JSON lines ({"level","ts","msg",…}) to the outputs
// --log-outputs names, at the --log-level (flag or ETCD_LOG_LEVEL), and both
// say where they serve clients in the same words.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdAvailable, startCairn, startEtcd, type ServerHandle, type StartOptions } from '../harness/launcher.js';

interface LogLine {
  level: string;
  ts: string;
  msg: string;
  [field: string]: unknown;
}

/** Every line of `text` that is a JSON object (etcd also lets grpc-go print plain "WARNING: …" lines); throws on a line that starts as JSON and is not. */
function jsonLines(text: string): LogLine[] {
  return text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
}

async function both(options: StartOptions, run: (server: ServerHandle) => Promise<void>): Promise<void> {
  const servers: ServerHandle[] = [];
  try {
    for (const start of [startEtcd, startCairn]) servers.push(await start(options));
    for (const server of servers) await run(server);
  } finally {
    await Promise.all(servers.map((server) => server.destroy()));
  }
}

describe('compat: structured logs (--logger zap, --log-outputs, --log-level)', function () {
  this.timeout(90_000);

  before(function () {
    if (!etcdAvailable()) this.skip();
  });

  it('both write JSON lines with level, ts and msg, and say where they serve clients in the same words', async () => {
    await both({ args: ['--logger', 'zap', '--log-level', 'info'] }, async (server) => {
      const lines = jsonLines(server.output());
      expect(lines.length, `${server.kind} lines`).to.be.greaterThan(3);
      for (const line of lines) {
        expect(line, server.kind).to.include.keys('level', 'ts', 'msg');
        expect(['debug', 'info', 'warn', 'error'], server.kind).to.include(line.level);
        expect(Number.isNaN(Date.parse(line.ts)), `${server.kind}: ts ${line.ts}`).to.equal(false);
      }
      const serving = lines.find((line) => line.msg === 'serving client traffic insecurely; this is strongly discouraged!');
      expect(serving?.address, `${server.kind}'s serving line`).to.equal(server.endpoint);
    });
  });

  it('both write to the file --log-outputs names, and nothing of it to stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-logs-'));
    try {
      for (const start of [startEtcd, startCairn]) {
        const file = join(dir, `${start === startEtcd ? 'etcd' : 'cairn'}.log`);
        const server = await start({ args: ['--logger', 'zap', '--log-level', 'info', '--log-outputs', file] });
        try {
          const lines = jsonLines(readFileSync(file, 'utf8'));
          expect(lines.some((line) => line.msg === 'serving client traffic insecurely; this is strongly discouraged!'), `${server.kind} file`).to.equal(true);
          expect(jsonLines(server.output()).filter((line) => line.level === 'info'), `${server.kind} stderr`).to.deep.equal([]);
        } finally {
          await server.destroy();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ETCD_LOG_LEVEL=warn leaves info lines out (cairn; the harness runs etcd at --log-level warn already, and env.test.ts checks the variables on both)', async () => {
    const server = await startCairn({ args: ['--logger', 'zap'], env: { ETCD_LOG_LEVEL: 'warn' } });
    try {
      await server.stop();
      const lines = jsonLines(server.output());
      expect(lines.filter((line) => line.level === 'info')).to.deep.equal([]);
    } finally {
      await server.destroy();
    }
    const chatty = await startCairn({ args: ['--logger', 'zap'], env: { ETCD_LOG_LEVEL: 'info' } });
    try {
      expect(jsonLines(chatty.output()).filter((line) => line.level === 'info').length).to.be.greaterThan(3);
    } finally {
      await chatty.destroy();
    }
  });

  it('cairn logs its start-up configuration, its leader, readiness and shutdown', async () => {
    const server = await startCairn({ args: ['--log-level', 'info', '--snapshot-count', '5'] });
    try {
      await server.stop();
      const lines = jsonLines(server.output());
      const messages = lines.map((line) => line.msg);
      const start = lines.find((line) => line.msg === 'starting cairn');
      expect(start?.['data-dir']).to.equal(server.dataDir);
      expect(start?.['snapshot-count']).to.equal(5);
      expect(messages.some((message) => /^elected leader \w+ at term \d+$/.test(message))).to.equal(true);
      expect(messages).to.include.members(['added member', 'published local member to cluster through raft', 'ready to serve client requests', 'received signal; shutting down', 'closed cairn server']);
      expect(messages.indexOf('published local member to cluster through raft'), 'published before ready').to.be.below(messages.indexOf('ready to serve client requests'));
      expect(lines.filter((line) => line.level === 'debug'), 'no request lines below debug').to.deep.equal([]);
    } finally {
      await server.destroy();
    }
  });

  it('at --log-level debug cairn logs each request with its method, code and duration', async () => {
    const server = await startCairn({ args: ['--log-level', 'debug'] });
    try {
      const response = await fetch(`${server.clientUrl}/v3/kv/range`, { method: 'POST', body: '{"key":"YQ==","revision":"99"}' });
      expect(response.status).to.equal(400);
      const requests = jsonLines(server.output()).filter((line) => line.msg === 'request' && line.method === '/etcdserverpb.KV/Range');
      expect(requests.some((line) => line.level === 'debug' && line.code === 'OUT_OF_RANGE' && line.error === 'etcdserver: mvcc: required revision is a future revision')).to.equal(true);
    } finally {
      await server.destroy();
    }
  });
});
