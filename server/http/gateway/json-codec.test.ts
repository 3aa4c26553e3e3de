import { expect } from 'chai';
import { GatewayRequestError, gatewayProtos, goJson, requestBytes, responseJson } from './json-codec.js';

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

  it('keeps 64-bit integers written as JSON numbers exact, and reads a quoted integer as jsonpb does (the text inside as JSON)', () => {
    const grant = type('etcdserverpb.LeaseGrantRequest');
    const decoded = (text: string) => grant.toObject(grant.decode(requestBytes(grant, text)), { longs: String });
    expect(decoded('{"ID":9007199254740993,"TTL":" 60"}')).to.deep.equal({ ID: '9007199254740993', TTL: '60' });
    expect(() => requestBytes(grant, '{"TTL":"x"}')).to.throw(GatewayRequestError, "invalid character 'x' looking for beginning of value");
    expect(() => requestBytes(grant, '{"TTL":1e3}')).to.throw(GatewayRequestError, 'json: cannot unmarshal number 1e3 into Go value of type int64');
    expect(() => requestBytes(grant, '{"TTL":true}')).to.throw(GatewayRequestError, 'json: cannot unmarshal bool into Go value of type int64');
  });

  it('names Go\'s types in its errors: a message is a map, a repeated field a slice, an enum its Go name', () => {
    const txn = type('etcdserverpb.TxnRequest');
    const cases: Array<[string, string]> = [
      ['"x"', 'json: cannot unmarshal string into Go value of type map[string]json.RawMessage'],
      ['{"compare":{}}', 'json: cannot unmarshal object into Go value of type []json.RawMessage'],
      ['{"compare":[{"target":"NOPE"}]}', 'unknown value "NOPE" for enum etcdserverpb.Compare_CompareTarget'],
      ['{"compare":[{"target":1.5}]}', 'json: cannot unmarshal number 1.5 into Go value of type etcdserverpb.Compare_CompareTarget'],
    ];
    for (const [text, message] of cases) expect(() => requestBytes(txn, text), text).to.throw(GatewayRequestError, message);
  });

  it('goJson writes what Go writes: HTML characters, U+2028 and U+2029 escaped, \\b and \\f as \\u escapes', () => {
    expect(goJson({ users: ['a<b>&c', 'x\b\f\n\u2028\u2029\u007fé', 'back\\b'] })).to.equal('{"users":["a\\u003cb\\u003e\\u0026c","x\\u0008\\u000c\\n\\u2028\\u2029\u007fé","back\\\\b"]}');
  });
});
