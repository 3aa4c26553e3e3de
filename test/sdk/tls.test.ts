// The SDK over TLS, against cairn and against real etcd started with the same
// certificates and --client-cert-auth: connect with `tls`, then put, get and
// watch; an untrusted server certificate and an http:// endpoint beside TLS
// are refused. The certificates are made for this run (harness/tls-fixture.ts).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { firstValueFrom, filter } from 'rxjs';
import { codecs, connect, InsecureEndpointError, UnavailableError, type Client } from '../../client/index.js';
import type { ServerHandle } from '../harness/launcher.js';
import { makeTlsFiles, mutualTls, type TlsFiles } from '../harness/tls-fixture.js';
import { rejection, selectedTargets } from './support.js';

for (const target of selectedTargets()) {
  describe(`sdk tls against ${target.kind}`, function () {
    let files: TlsFiles;
    let server: ServerHandle;
    const clients: Client[] = [];

    before(async function () {
      if (!target.available()) return this.skip();
      files = makeTlsFiles();
      server = await target.start({ tls: mutualTls(files) });
    });
    after(async () => {
      for (const client of clients) client.close();
      await server?.destroy();
      files?.remove();
    });

    it('connects with tls (file paths) to an https:// endpoint and puts, gets and watches', async () => {
      const client = await connect({
        endpoints: [`https://${server.endpoint}`],
        tls: { ca: files.caFile, cert: files.clientCertFile, key: files.clientKeyFile },
      });
      clients.push(client);
      const event = firstValueFrom(client.watch$({ prefix: 'tls/' }, { codec: codecs.string }).pipe(filter((batch) => batch.events.length > 0)));
      const put = await client.put('tls/a', 'secret');
      expect((await client.get('tls/a', { codec: codecs.string }))?.value).to.equal('secret');
      const batch = await event;
      expect(batch.revision).to.equal(put.header.revision);
      expect(batch.events.map((change) => change.kv.value)).to.deep.equal(['secret']);
    });

    it('takes the PEM contents as Buffers, and a bare host:port endpoint uses TLS when tls is given', async () => {
      const client = await connect({
        endpoints: [server.endpoint],
        tls: { ca: readFileSync(files.caFile), cert: readFileSync(files.clientCertFile), key: readFileSync(files.clientKeyFile) },
      });
      clients.push(client);
      expect((await client.get('tls/a', { codec: codecs.string }))?.value).to.equal('secret');
    });

    it('an https:// endpoint whose CA is not trusted (system roots) fails with UnavailableError', async () => {
      const error = await rejection(connect({ endpoints: [`https://${server.endpoint}`], dialTimeoutMs: 1_000, retry: { retries: 0 } }));
      expect(error).to.be.instanceOf(UnavailableError);
    });

    it('a client certificate signed by another CA is refused with UnavailableError', async () => {
      const error = await rejection(connect({
        endpoints: [`https://${server.endpoint}`],
        tls: { ca: files.caFile, cert: files.otherClientCertFile, key: files.otherClientKeyFile },
        dialTimeoutMs: 1_000,
        retry: { retries: 0 },
      }));
      expect(error).to.be.instanceOf(UnavailableError);
    });

    it('an http:// endpoint with tls options is refused before anything is sent (InsecureEndpointError)', async () => {
      const error = await rejection(connect({ endpoints: [`http://${server.endpoint}`], tls: { ca: files.caFile } }));
      expect(error).to.be.instanceOf(InsecureEndpointError);
      expect(error.message).to.include(`endpoint http://${server.endpoint} is http:// but tls options are given`);
    });
  });
}
