import { expect } from 'chai';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate, serialNumber } from './self-signed.js';

describe('selfSignedCertificate (--auto-tls, --peer-auto-tls)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cairn-self-signed-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const nowWallMs = Date.UTC(2030, 0, 2, 3, 4, 5);

  it('makes a certificate as etcd does: O=etcd, ECDSA P-521, a year from the given time, the hosts as IP and DNS names', async () => {
    const files = await selfSignedCertificate(join(dir, 'fixtures', 'peer'), ['127.0.0.1:2380', 'localhost:2381', '[::1]:2382'], ['clientAuth'], nowWallMs);
    expect(files).to.deep.equal({ certFile: join(dir, 'fixtures', 'peer', 'cert.pem'), keyFile: join(dir, 'fixtures', 'peer', 'key.pem'), created: true });
    const certificate = new X509Certificate(readFileSync(files.certFile));
    expect(certificate.subject).to.equal('O=etcd');
    expect(certificate.issuer).to.equal('O=etcd');
    expect(certificate.ca).to.equal(false);
    expect(certificate.subjectAltName).to.equal('IP Address:127.0.0.1, DNS:localhost, IP Address:0:0:0:0:0:0:0:1');
    expect(certificate.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(new Date(certificate.validFrom).getTime()).to.equal(nowWallMs);
    expect(new Date(certificate.validTo).getTime()).to.equal(nowWallMs + 365 * 24 * 3_600_000);
    expect(certificate.publicKey.asymmetricKeyDetails).to.deep.equal({ namedCurve: 'secp521r1' });
    expect(certificate.verify(certificate.publicKey), 'self-signed').to.equal(true);
    const key = readFileSync(files.keyFile, 'utf8');
    expect(key).to.match(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(certificate.checkPrivateKey(createPrivateKey(key))).to.equal(true);
    expect(statSync(files.keyFile).mode & 0o777).to.equal(0o600);
  });

  it('serialNumber: a positive INTEGER in its shortest form whatever the random bytes', () => {
    for (const first of [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]) {
      const random = new Uint8Array(16).fill(first);
      const serial = serialNumber(random);
      expect(serial.length).to.equal(16);
      expect(serial[0], `first byte from 0x${first.toString(16)}`).to.be.within(0x01, 0x7f);
      expect([...serial.subarray(1)]).to.deep.equal([...random.subarray(1)]);
    }
  });

  it('a client certificate is a server\'s only', async () => {
    const files = await selfSignedCertificate(dir, ['127.0.0.1:2379'], [], nowWallMs);
    expect(new X509Certificate(readFileSync(files.certFile)).keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.1']);
  });

  it('keeps the files it finds (a restart keeps its certificate)', async () => {
    const first = await selfSignedCertificate(dir, ['127.0.0.1:2380'], [], nowWallMs);
    const pem = readFileSync(first.certFile, 'utf8');
    const second = await selfSignedCertificate(dir, ['127.0.0.1:2380'], [], nowWallMs + 1_000);
    expect(second).to.deep.equal({ ...first, created: false });
    expect(readFileSync(second.certFile, 'utf8')).to.equal(pem);
  });
});
