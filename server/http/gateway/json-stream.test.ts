import { expect } from 'chai';
import { JsonValues, JsonValueTooLargeError } from './json-stream.js';

describe('gateway: JsonValues (a streaming request body)', () => {
  it('cuts values as they complete, across chunks, ignoring braces inside strings and escaped quotes', () => {
    const values = new JsonValues(1024);
    expect(values.push('{"create_request":{"key":"YQ=="}}{"ca')).to.deep.equal(['{"create_request":{"key":"YQ=="}}']);
    expect(values.push('ncel_request":{"watch_id":"0"}}')).to.deep.equal(['{"cancel_request":{"watch_id":"0"}}']);
    expect(values.push(' \n{"a":"}{\\"}"}\n{"b":[1,{"c":2}]}')).to.deep.equal(['{"a":"}{\\"}"}', '{"b":[1,{"c":2}]}']);
    expect(values.rest()).to.equal('');
  });

  it('keeps a value cut short for rest(), and refuses one that grows past its bound', () => {
    const values = new JsonValues(16);
    expect(values.push('{"ID":"7')).to.deep.equal([]);
    expect(values.rest()).to.equal('{"ID":"7');
    expect(() => values.push('0000000000000000')).to.throw(JsonValueTooLargeError);
  });
});
