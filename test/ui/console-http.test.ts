// What a member's client port serves for the console, over real HTTP from
// a real cairn process: the page, its stream of the member's view of the
// cluster (/ui/events, Server-Sent Events) with its bound, and nothing at
// all with --enable-ui=false.
import { expect } from 'chai';
import { get, type ClientRequest } from 'node:http';
import { startCairn, type ServerHandle } from '../harness/launcher.js';

const streamsMax = 64;
const perAddressMax = 16;

/** Reads a Server-Sent Events body until its first event; its name and parsed data. */
async function firstEvent(response: Response): Promise<{ event: string; data: unknown }> {
  const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before an event: ${text}`);
    text += value;
    const end = text.indexOf('\n\n');
    if (end < 0) continue;
    await reader.cancel();
    const fields = Object.fromEntries(text.slice(0, end).split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
    return { event: fields.event ?? '', data: JSON.parse(fields.data ?? 'null') };
  }
}

describe('ui: what the client port serves for the console', function () {
  this.timeout(60_000);
  let server: ServerHandle | undefined;

  before(async () => {
    server = await startCairn({ name: 'solo' });
  });

  after(async () => {
    await server?.destroy();
  });

  const url = (path: string): string => `${(server as ServerHandle).clientUrl}${path}`;

  /** GET /ui/events from the local address `from`: its status, and its body when refused (a 200's stays open). */
  function openStream(from: string): Promise<{ status: number | undefined; body: string; request: ClientRequest }> {
    return new Promise((resolve, reject) => {
      const request = get(url('/ui/events'), { localAddress: from, agent: false }, (response) => {
        if (response.statusCode === 200) return resolve({ status: 200, body: '', request });
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode, body, request }));
      });
      request.on('error', reject);
    });
  }

  it('streams the member\'s view of the cluster: itself as leader of one, its indexes and database size', async () => {
    const response = await fetch(url('/ui/events'));
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('text/event-stream');
    const { event, data } = await firstEvent(response);
    expect(event).to.equal('cluster');
    const view = data as { member: { id: string; name: string }; leader: string; raftTerm: string; raftIndex: number; appliedIndex: number; dbSizeBytes: number; members: Array<{ id: string; name: string; clientURLs: string[] }>; alarms: unknown[] };
    expect(view.member.name).to.equal('solo');
    expect(view.leader).to.equal(view.member.id);
    expect(Number(view.raftTerm)).to.be.greaterThan(0);
    expect(view.appliedIndex).to.be.greaterThan(0);
    expect(view.dbSizeBytes).to.be.greaterThan(0);
    expect(view.alarms).to.deep.equal([]);
    expect(view.members).to.have.length(1);
    expect(view.members[0]).to.deep.include({ id: view.member.id, name: 'solo', clientURLs: [(server as ServerHandle).clientUrl] });
    // The member's ID is the one etcdctl and Status report.
    const status = await (await fetch(url('/v3/maintenance/status'), { method: 'POST', body: '{}' })).json() as { header: { member_id: string } };
    expect(BigInt(status.header.member_id).toString(16)).to.equal(view.member.id);
  });

  it(`serves at most ${perAddressMax} streams to one address and ${streamsMax} in all (503 beyond), and takes new ones as others close`, async () => {
    const opened: ClientRequest[] = [];
    try {
      // Loopback has every 127.x.y.z: four client addresses of 16 streams each fill the member.
      for (const from of ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']) {
        for (let i = 0; i < perAddressMax; i++) {
          const stream = await openStream(from);
          expect(stream.status, from).to.equal(200);
          opened.push(stream.request);
        }
        if (from === '127.0.0.1') {
          const refused = await openStream(from);
          expect([refused.status, refused.body]).to.deep.equal([503, `too many console streams from one address (at most ${perAddressMax})\n`]);
        }
      }
      const refused = await openStream('127.0.0.5');
      expect([refused.status, refused.body]).to.deep.equal([503, `too many console streams (at most ${streamsMax} per member)\n`]);
      opened.shift()?.destroy();
      let status: number | undefined = 503;
      for (let attempt = 0; attempt < 50 && status === 503; attempt++) {
        const again = await openStream('127.0.0.5');
        status = again.status;
        again.request.destroy();
        if (status === 503) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).to.equal(200);
    } finally {
      for (const request of opened) request.destroy();
    }
  });

  it('answers 405 to anything but GET on the stream', async () => {
    const response = await fetch(url('/ui/events'), { method: 'POST', body: '' });
    expect(response.status).to.equal(405);
    expect(response.headers.get('allow')).to.equal('GET');
  });

  it('serves no console at all with --enable-ui=false', async () => {
    const off = await startCairn({ args: ['--enable-ui=false'] });
    try {
      for (const path of ['/ui', '/ui/', '/ui/events']) {
        const response = await fetch(`${off.clientUrl}${path}`, { redirect: 'manual' });
        expect(response.status, path).to.equal(404);
        expect(await response.text(), path).to.equal('404 page not found\n');
      }
      const on = await fetch(url('/ui/'));
      expect(on.status).to.equal(200);
    } finally {
      await off.destroy();
    }
  });
});
