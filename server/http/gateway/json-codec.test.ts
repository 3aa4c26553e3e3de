import { expect } from 'chai';
import { GatewayRequestError, gatewayProtos, requestBytes, responseJson } from './json-codec.js';

const type = (name: string) => gatewayProtos().lookupType(name);

describe('gateway: JSON as etcd\'s gateway writes and reads it', () => {
  it('writes declared field names, 64-bit integers as strings, bytes as base64, enums by name, and leaves zero values out', () => {
    const range = type('etcdserverpb.RangeResponse');
    const bytes = range.encode(range.fromObject({ header: { cluster_id: '18089165600586723321', revision: 2 }, kvs: [{ key: Buffer.from('foo'), create_revision: 2, version: 1 }], count: 1, more: false })).finish();
    expect(JSON.stringify(responseJson(range, bytes))).to.equal('{"header":{"cluster_id":"18089165600586723321","revision":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","version":"1"}],"count":"1"}');
    const event = type('mvccpb.Event');
    expect(responseJson(event, event.encode(event.fromObject({ type: 1, kv: { key: Buffer.from('a') } })).finish())).to.deep.equal({ type: 'DELETE', kv: { key: 'YQ==' } });
    const status = type('etcdserverpb.StatusResponse');
    expect(responseJson(status, status.encode(status.fromObject({ dbSize: 4096, raftIndex: 7 })).finish())).to.deep.equal({ dbSize: '4096', raftIndex: '7' });
  });

  it('reads declared and lowerCamelCase names, integers as numbers or strings, enums by name or number; ignores unknown fields', () => {
    const txn = type('etcdserverpb.TxnRequest');
    const bytes = requestBytes(txn, '{"compare":[{"target":"CREATE","key":"Zm9v","createRevision":"2","result":1}],"success":[{"requestPut":{"key":"Zm9v","value":"YmFy","lease":7}}],"nonsense":true}');
    expect(txn.toObject(txn.decode(bytes), { longs: String, enums: String, bytes: String })).to.deep.equal({
      compare: [{ target: 'CREATE', key: 'Zm9v', create_revision: '2', result: 'GREATER' }],
      success: [{ request_put: { key: 'Zm9v', value: 'YmFy', lease: '7' } }],
    });
    expect(requestBytes(type('etcdserverpb.RangeRequest'), '')).to.have.length(0);
  });

  it('refuses what jsonpb refuses: bad base64, a wrong value type, an unknown enum name, a number out of range, bad JSON', () => {
    const range = type('etcdserverpb.RangeRequest');
    expect(() => requestBytes(range, '{"key":"!!!"}')).to.throw(GatewayRequestError, 'illegal base64 data at input byte 0');
    expect(() => requestBytes(range, '{"key":"YQ"}')).to.throw(GatewayRequestError, 'illegal base64 data at input byte 0');
    expect(() => requestBytes(range, '{"key":5}')).to.throw(GatewayRequestError, 'cannot unmarshal number into Go value of type []uint8');
    expect(() => requestBytes(range, '{"sort_order":"SIDEWAYS"}')).to.throw(GatewayRequestError, 'unknown value "SIDEWAYS"');
    expect(() => requestBytes(range, '{"limit":"99999999999999999999"}')).to.throw(GatewayRequestError, 'cannot unmarshal number 99999999999999999999');
    expect(() => requestBytes(range, '[]')).to.throw(GatewayRequestError, 'cannot unmarshal array');
    expect(() => requestBytes(range, '{bad')).to.throw(GatewayRequestError);
  });
});
