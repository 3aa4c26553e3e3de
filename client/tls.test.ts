import { expect } from 'chai';
import { credentials } from '@grpc/grpc-js';
import { channelCredentials, transportOf } from './tls.js';
import { InsecureEndpointError, InvalidOptionError } from './errors.js';

describe('client tls: which endpoints use TLS', () => {
  it('plaintext without tls options and without https:// endpoints', () => {
    expect(transportOf({ endpoints: ['127.0.0.1:2379', 'http://127.0.0.1:2381'] })).to.deep.equal({ kind: 'plaintext' });
  });

  it('TLS (system roots) for an https:// endpoint, and for every endpoint when tls options are given', () => {
    expect(transportOf({ endpoints: ['https://127.0.0.1:2379', '127.0.0.1:2381'] })).to.deep.equal({ kind: 'tls', tls: {} });
    const ca = Buffer.from('ca');
    expect(transportOf({ endpoints: ['127.0.0.1:2379'], tls: { ca } })).to.deep.equal({ kind: 'tls', tls: { ca } });
  });

  it('refuses an http:// endpoint beside tls options or an https:// endpoint (no silent downgrade)', () => {
    expect(() => transportOf({ endpoints: ['http://127.0.0.1:2379'], tls: {} })).to.throw(InsecureEndpointError, /endpoint http:\/\/127.0.0.1:2379 is http:\/\/ but tls options are given/);
    expect(() => transportOf({ endpoints: ['https://127.0.0.1:2379', 'http://127.0.0.1:2381'] }))
      .to.throw(InsecureEndpointError, /uses https:\/\//).that.is.instanceOf(InvalidOptionError);
  });

  it('refuses cert without key, and tls beside credentials', () => {
    expect(() => transportOf({ endpoints: ['a:1'], tls: { cert: 'c.pem' } })).to.throw(InvalidOptionError, 'tls.cert and tls.key must be given together');
    expect(() => transportOf({ endpoints: ['a:1'], tls: {}, credentials: credentials.createInsecure() })).to.throw(InvalidOptionError, 'give tls or credentials, not both');
  });

  it('a file that cannot be read rejects with InvalidOptionError naming the option and the path', async () => {
    const rejected = await channelCredentials({ kind: 'tls', tls: { ca: '/nonexistent/ca.pem' } }).then(() => undefined, (error: unknown) => error);
    expect(rejected).to.be.instanceOf(InvalidOptionError);
    expect((rejected as Error).message).to.match(/^cannot read tls.ca \/nonexistent\/ca.pem: ENOENT/);
  });
});
