import { expect } from 'chai';
import { utf8 } from './bytes.js';
import { formatOf, parse, show, showable } from './value-format.js';

describe('ui value formats', () => {
  it('opens JSON as JSON, text as text, other bytes as hex', () => {
    expect(formatOf(utf8('{"a":1}'))).to.equal('json');
    expect(formatOf(utf8('[1, 2]'))).to.equal('json');
    expect(formatOf(utf8('{not json'))).to.equal('text');
    expect(formatOf(utf8('plain words\nand lines'))).to.equal('text');
    expect(formatOf(new Uint8Array([0x01, 0xff]))).to.equal('hex');
    expect(formatOf(new Uint8Array([0x41, 0x00]))).to.equal('hex');
  });

  it('shows JSON pretty-printed and bytes as hex', () => {
    expect(show(utf8('{"a":[1,2]}'), 'json')).to.equal('{\n  "a": [\n    1,\n    2\n  ]\n}');
    expect(show(new Uint8Array([0xde, 0xad, 0xbe, 0xef]), 'hex')).to.equal('de ad be ef');
  });

  it('parses what the editor holds, or says why not', () => {
    const hex = parse('de ad\nBE EF', 'hex');
    expect(hex.ok && [...hex.value]).to.deep.equal([0xde, 0xad, 0xbe, 0xef]);
    expect(parse('abc', 'hex')).to.deep.include({ ok: false });
    const json = parse('{"a":', 'json');
    expect(json.ok).to.equal(false);
    expect(!json.ok && json.problem).to.match(/^Not valid JSON: /);
    const text = parse('héllo', 'text');
    expect(text.ok && [...text.value]).to.deep.equal([...utf8('héllo')]);
  });
});

describe('ui value formats: nothing changes that the user did not change', () => {
  it('pretty-prints JSON only when that loses nothing', () => {
    expect(show(utf8('{"id":12345678901234567890}'), 'json')).to.equal('{"id":12345678901234567890}');
    expect(show(utf8('{"a":1,"a":2}'), 'json')).to.equal('{"a":1,"a":2}');
    expect(show(utf8('{"a":"\\u00e9"}'), 'json')).to.equal('{"a":"\\u00e9"}');
    expect(show(utf8('{"a":1}'), 'json')).to.equal('{\n  "a": 1\n}');
  });

  it('offers text and JSON only for bytes that are UTF-8 text', () => {
    expect(showable(new Uint8Array([0xff, 0x00]), 'text')).to.equal(false);
    expect(showable(new Uint8Array([0xff, 0x00]), 'hex')).to.equal(true);
    expect(showable(utf8('plain'), 'json')).to.equal(true);
  });
});
