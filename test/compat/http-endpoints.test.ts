// The HTTP face of the client port, side by side: /health, /version, Go's
// 404 and 405, the CORS headers, on the same port as gRPC. /livez and
// /readyz are etcd 3.5's (etcd 3.4 answers 404): cairn's are checked
// against 3.5's documented output.
import { expect } from 'chai';
import { AlarmRequest, AlarmRequest_AlarmAction, AlarmType } from '../../proto/gen/etcdserverpb/rpc.js';
import type { ServerHandle } from '../harness/launcher.js';
import { compatPair, type PairSide } from './pair.js';
import { alarmRaw, responseOf } from './rpc.js';

/** What an HTTP answer is compared on (not Date, not Node's or Go's connection headers). */
interface HttpAnswer {
  status: number;
  contentType: string | null;
  allow?: string | null;
  cors?: Array<string | null>;
  body: string;
}

async function get(server: ServerHandle, path: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const response = await fetch(`${server.clientUrl}${path}`, init);
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

const alarm = (action: AlarmRequest_AlarmAction, type: AlarmType) => async (side: PairSide): Promise<void> => {
  responseOf(await alarmRaw(side.clients, AlarmRequest.fromPartial({ action, alarm: type, memberID: 0n })), `Alarm on ${side.name}`);
};

describe('compat: HTTP endpoints on the client port', function () {
  const pair = compatPair();

  it('/health: {"health":"true"} as text/plain on both', async () => {
    const answer = await pair.same('/health', (side) => get(side.server, '/health'));
    expect(answer).to.deep.equal({ status: 200, contentType: 'text/plain; charset=utf-8', body: '{"health":"true"}' });
  });

  it('/version: the server and cluster versions as JSON, the cluster at 3.4.0 on both', async () => {
    const [etcd, cairn] = await pair.both((side) => get(side.server, '/version'));
    for (const answer of [etcd, cairn]) {
      expect(answer.status).to.equal(200);
      expect(answer.contentType).to.equal('application/json');
    }
    const etcdVersions = JSON.parse(etcd.body) as Record<string, string>;
    const cairnVersions = JSON.parse(cairn.body) as Record<string, string>;
    expect(Object.keys(cairnVersions)).to.deep.equal(Object.keys(etcdVersions));
    expect(cairnVersions.etcdcluster).to.equal(etcdVersions.etcdcluster).and.to.equal('3.4.0');
    expect(cairnVersions.etcdserver).to.match(/^3\.4\.\d+$/);
    expect(etcdVersions.etcdserver).to.match(/^3\.4\.\d+$/);
  });

  it('a POST to /health or /version: 405 naming GET, on both', async () => {
    const post = async (server: ServerHandle, path: string): Promise<HttpAnswer> => {
      const response = await fetch(`${server.clientUrl}${path}`, { method: 'POST' });
      return { status: response.status, contentType: response.headers.get('content-type'), allow: response.headers.get('allow'), body: await response.text() };
    };
    for (const path of ['/health', '/version']) {
      const answer = await pair.same(`POST ${path}`, (side) => post(side.server, path));
      expect(answer).to.deep.equal({ status: 405, contentType: 'text/plain; charset=utf-8', allow: 'GET', body: 'Method Not Allowed\n' });
    }
  });

  it('an unknown path: Go\'s 404 on both; every answer carries etcd\'s CORS headers', async () => {
    const withCors = async (server: ServerHandle, path: string, init: RequestInit = {}): Promise<HttpAnswer> => {
      const response = await fetch(`${server.clientUrl}${path}`, init);
      const cors = ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers'].map((name) => response.headers.get(name));
      return { status: response.status, contentType: response.headers.get('content-type'), cors, body: await response.text() };
    };
    const answer = await pair.same('GET /nowhere', (side) => withCors(side.server, '/nowhere'));
    expect(answer.status).to.equal(404);
    expect(answer.body).to.equal('404 page not found\n');
    expect(answer.cors).to.deep.equal(['*', 'POST, GET, OPTIONS, PUT, DELETE', 'accept, content-type, authorization']);
    const preflight = await pair.same('OPTIONS /v3/kv/range', (side) => withCors(side.server, '/v3/kv/range', { method: 'OPTIONS' }));
    expect(preflight.status).to.equal(200);
  });

  it('/health with an alarm raised: 503 {"health":"false"} on both, true again with ?exclude=<alarm> and once disarmed', async () => {
    await pair.both(alarm(AlarmRequest_AlarmAction.ACTIVATE, AlarmType.NOSPACE));
    try {
      const raised = await pair.same('/health with NOSPACE', (side) => get(side.server, '/health'));
      expect(raised).to.deep.equal({ status: 503, contentType: 'text/plain; charset=utf-8', body: '{"health":"false"}\n' });
      const excluded = await pair.same('/health?exclude=NOSPACE', (side) => get(side.server, '/health?exclude=NOSPACE'));
      expect(excluded.body).to.equal('{"health":"true"}');
      const otherExcluded = await pair.same('/health?exclude=CORRUPT', (side) => get(side.server, '/health?exclude=CORRUPT'));
      expect(otherExcluded.status).to.equal(503);
    } finally {
      await pair.both(alarm(AlarmRequest_AlarmAction.DEACTIVATE, AlarmType.NOSPACE));
    }
    expect((await pair.same('/health once disarmed', (side) => get(side.server, '/health'))).status).to.equal(200);
  });

  it('/livez and /readyz (etcd 3.5\'s): "ok", each check on its own path, ?verbose lists them, ?exclude leaves one out', async () => {
    expect((await get(pair.etcd, '/livez')).status, 'etcd 3.4 has no /livez').to.equal(404);
    const { cairn } = pair;
    expect(await get(cairn, '/livez')).to.deep.equal({ status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok\n' });
    expect((await get(cairn, '/livez?verbose')).body).to.equal('[+]serializable_read ok\nok\n');
    expect((await get(cairn, '/readyz?verbose')).body).to.equal('[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\nok\n');
    expect((await get(cairn, '/readyz?verbose&exclude=serializable_read&exclude=no_such_check')).body).to.equal('[+]data_corruption ok\n[+]linearizable_read ok\nok\n');
    expect((await get(cairn, '/readyz/linearizable_read?verbose')).body).to.equal('[+]linearizable_read ok\nok\n');
    expect((await get(cairn, '/readyz/nothing')).status).to.equal(404);
    expect((await get(cairn, '/readyz', { method: 'POST' })).status).to.equal(405);
  });

  it('/readyz with the CORRUPT alarm raised: 503 naming the failed check; /livez stays ok', async () => {
    const cairn: PairSide = (await pair.both(async (side) => side))[1];
    await alarm(AlarmRequest_AlarmAction.ACTIVATE, AlarmType.CORRUPT)(cairn);
    try {
      const ready = await get(pair.cairn, '/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.body.split('\n')).to.include('[-]data_corruption failed: alarm activated: CORRUPT');
      expect((await get(pair.cairn, '/readyz/serializable_read')).status).to.equal(200);
      expect((await get(pair.cairn, '/livez')).status).to.equal(200);
    } finally {
      await alarm(AlarmRequest_AlarmAction.DEACTIVATE, AlarmType.CORRUPT)(cairn);
    }
    expect((await get(pair.cairn, '/readyz')).status).to.equal(200);
  });
});
