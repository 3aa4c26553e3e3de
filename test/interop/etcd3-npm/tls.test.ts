// The npm `etcd3` client over TLS (`hosts: 'https://…'`, `credentials:
// {rootCertificate, privateKey, certChain}`) against etcd and cairn started
// with the same certificates and flags (--cert-file, --key-file, and for
// mutual TLS --trusted-ca-file --client-cert-auth), made for this run by
// harness/tls-fixture.ts. Clients the servers must refuse get the same error
// class and message from the package on both.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import { mutualTls, type TlsFiles } from '../../harness/tls-fixture.js';
import { etcd3TlsPair, nextEvent, type Etcd3Side } from './etcd3-pair.js';

const rootOnly = (files: TlsFiles) => ({ rootCertificate: readFileSync(files.caFile) });
const withClientCertificate = (files: TlsFiles) => ({
  rootCertificate: readFileSync(files.caFile),
  privateKey: readFileSync(files.clientKeyFile),
  certChain: readFileSync(files.clientCertFile),
});

/** A put, a get, a watched put and a lease through `client`: what an ordinary session does. */
async function session({ client, n }: Etcd3Side, prefix: string): Promise<unknown> {
  const watcher = await client.watch().prefix(prefix).create();
  const seen = nextEvent<[{ key: Buffer; value: Buffer }]>(watcher, 'put');
  const lease = client.lease(30, { autoKeepAlive: false });
  n.lease(await lease.grant());
  const put = n.of(await lease.put(`${prefix}a`).value('1'));
  const [kv] = await seen;
  await watcher.cancel();
  const got = n.of((await client.get(`${prefix}a`).exec()).kvs);
  await lease.revoke();
  return { put, watched: `${kv.key.toString()}=${kv.value.toString()}`, got, after: await client.getAll().prefix(prefix).keys() };
}

/**
 * What a request through `client` ends with. grpc-js stamps its connection
 * errors with the time, named here; with `hideTlsAlert`, also the TLS failure
 * it read (see the mutual TLS refusals).
 */
async function refusal(client: Etcd3, side: Etcd3Side, hideTlsAlert = false): Promise<unknown> {
  const outcome = await side.n.outcome(client.get('tls/a').string());
  const text = JSON.stringify(outcome)
    .split(side.server.endpoint).join('<endpoint>')
    .replace(/ \(\d{4}-\d\d-\d\dT[\d:.]+Z\)/g, ' (<time>)');
  return JSON.parse(hideTlsAlert ? text.replace(/Last error: .*? \(<time>\)/, 'Last error: <TLS failure> (<time>)') : text);
}

describe('interop: etcd3 npm — TLS, server certificate (--cert-file, --key-file)', function () {
  const pair = etcd3TlsPair((files) => ({ certFile: files.serverCertFile, keyFile: files.serverKeyFile, probe: { caFile: files.caFile } }), rootOnly);

  it('credentials.rootCertificate: put, get, watch and lease over https on both', async () => {
    const etcd = await pair.same('https session', (side) => session(side, 'tls/'));
    expect(etcd).to.deep.include({ watched: 'tls/a=1', after: [] });
  });

  it('refused on both: the system roots (no rootCertificate), another CA, a plaintext http:// host', async () => {
    const etcd = await pair.same('refused clients', async (side) => ({
      systemRoots: await refusal(side.newClient({ credentials: undefined }), side),
      otherCa: await refusal(side.newClient({ credentials: { rootCertificate: readFileSync(pair.files().otherCaFile) } }), side),
      plaintext: await refusal(side.newClient({ hosts: `http://${side.server.endpoint}`, credentials: undefined }), side),
    }));
    expect(etcd.systemRoots).to.have.nested.property('error.class', 'GRPCUnavailableError');
  });
});

describe('interop: etcd3 npm — mutual TLS (--trusted-ca-file, --client-cert-auth)', function () {
  const pair = etcd3TlsPair(mutualTls, withClientCertificate);

  it('credentials with privateKey and certChain: put, get, watch and lease on both', async () => {
    const etcd = await pair.same('mutual TLS session', (side) => session(side, 'mtls/'));
    expect(etcd).to.deep.include({ watched: 'mtls/a=1', after: [] });
  });

  it('refused on both: no client certificate, a client certificate of another CA', async () => {
    // The server refuses the handshake after the client's Finished (TLS 1.3), with an alert its TLS
    // library chooses: Go's sends "certificate required" (116) for a missing certificate, Node's
    // OpenSSL "bad certificate" (42), and whether the client reads the alert before the connection
    // closes ("Failed to connect") is a race. What the package throws is compared without it.
    const etcd = await pair.same('refused client certificates', async (side) => {
      const files = pair.files();
      return {
        noCertificate: await refusal(side.newClient({ credentials: rootOnly(files) }), side, true),
        otherCa: await refusal(side.newClient({
          credentials: { rootCertificate: readFileSync(files.caFile), privateKey: readFileSync(files.otherClientKeyFile), certChain: readFileSync(files.otherClientCertFile) },
        }), side, true),
      };
    });
    const refused = { error: { class: 'GRPCUnavailableError', message: '14 UNAVAILABLE: No connection established. Last error: <TLS failure> (<time>). Resolution note: ' } };
    expect(etcd).to.deep.equal({ noCertificate: refused, otherCa: refused });
  });
});
