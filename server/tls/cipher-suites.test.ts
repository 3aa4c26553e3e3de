import { expect } from 'chai';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tlsProtocolOptions, TlsProtocolError, type TlsProtocolConfig, type TlsProtocolOptions } from './cipher-suites.js';
import { selfSignedCertificate } from './self-signed.js';

const defaults: TlsProtocolConfig = { cipherSuites: [], minVersion: 'TLS1.2', maxVersion: undefined };

describe('tlsProtocolOptions (--cipher-suites, --tls-min-version, --tls-max-version)', () => {
  it('without flags: TLS 1.2 to 1.3 and the library\'s ciphers', () => {
    expect(tlsProtocolOptions(defaults)).to.deep.equal({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
  });

  it('maps Go\'s names to OpenSSL\'s, in order, keeping TLS 1.3\'s suites as Go does', () => {
    const options = tlsProtocolOptions({ ...defaults, cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305'] });
    const ciphers = options.ciphers?.split(':') ?? [];
    expect(ciphers.slice(-2)).to.deep.equal(['ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']);
    expect(ciphers.slice(0, -2)).to.include('TLS_AES_128_GCM_SHA256');
    expect(ciphers.slice(0, -2).every((name) => name.startsWith('TLS_'))).to.equal(true);
  });

  it('a list that names TLS 1.3 suites keeps only those for TLS 1.3', () => {
    const options = tlsProtocolOptions({ ...defaults, cipherSuites: ['TLS_AES_256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'] });
    expect(options.ciphers).to.equal('TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES128-GCM-SHA256');
  });

  it('refuses what cannot be used, one sentence each', () => {
    expect(() => tlsProtocolOptions({ ...defaults, cipherSuites: ['nope'] })).to.throw(TlsProtocolError, 'unexpected TLS cipher suite "nope"');
    expect(() => tlsProtocolOptions({ ...defaults, cipherSuites: ['TLS_RSA_WITH_3DES_EDE_CBC_SHA'] })).to.throw(TlsProtocolError, /is not offered by this server's OpenSSL/);
    expect(() => tlsProtocolOptions({ ...defaults, minVersion: 'TLS1.3', maxVersion: 'TLS1.2' })).to.throw(TlsProtocolError, 'min version (TLS1.3) is greater than max version (TLS1.2)');
  });

  describe('on a TLS server (Node\'s, as gRPC\'s)', () => {
    let dir: string;
    let cert: Buffer;
    let key: Buffer;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cairn-ciphers-'));
      const files = await selfSignedCertificate(dir, ['127.0.0.1'], [], Date.now());
      cert = readFileSync(files.certFile);
      key = readFileSync(files.keyFile);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** Handshakes with a server started with `server` options; resolves with what was agreed, or the client's error. */
    async function handshake(server: TlsProtocolOptions, client: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string }): Promise<{ protocol: string | null; cipher: string } | { error: string }> {
      const listener = createServer({ cert, key, ...server }, (socket) => socket.end());
      listener.on('tlsClientError', () => undefined);
      listener.listen(0, '127.0.0.1');
      await once(listener, 'listening');
      try {
        const socket: TLSSocket = connect({ host: '127.0.0.1', port: (listener.address() as AddressInfo).port, rejectUnauthorized: false, ...client });
        return await new Promise((resolve) => {
          socket.once('secureConnect', () => {
            resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().standardName });
            socket.destroy();
          });
          socket.once('error', (error) => resolve({ error: error.message }));
        });
      } finally {
        listener.close();
      }
    }

    it('a TLS 1.2 client gets the one suite the list allows; a TLS 1.3 client still gets TLS 1.3, as from etcd', async () => {
      const options = tlsProtocolOptions({ ...defaults, cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'] });
      expect(await handshake(options, { maxVersion: 'TLSv1.2' })).to.deep.equal({ protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384' });
      expect(await handshake(options, {})).to.have.property('protocol', 'TLSv1.3');
      const refused = await handshake(options, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
      expect(refused).to.have.property('error').that.matches(/handshake failure/);
    });

    it('--tls-min-version TLS1.3 refuses a TLS 1.2 client; --tls-max-version TLS1.2 serves TLS 1.2 only', async () => {
      const only13 = tlsProtocolOptions({ ...defaults, minVersion: 'TLS1.3' });
      expect(await handshake(only13, { maxVersion: 'TLSv1.2' })).to.have.property('error').that.matches(/protocol version/);
      const only12 = tlsProtocolOptions({ ...defaults, maxVersion: 'TLS1.2' });
      expect(await handshake(only12, {})).to.have.property('protocol', 'TLSv1.2');
    });
  });
});
