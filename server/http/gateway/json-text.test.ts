import { expect } from 'chai';
import { JsonNumber, JsonSyntaxError, readFirstValue, readWholeValue } from './json-text.js';

describe('gateway: JSON text as Go\'s encoding/json reads it', () => {
  it('keeps numbers as written, so 64-bit integers and exponents reach the reader intact', () => {
    expect(readFirstValue('{"ID":9007199254740993,"TTL":1e3,"a":[-0.5,true,null,"x\\u00e9\\n"]}')).to.deep.equal({
      ID: new JsonNumber('9007199254740993'),
      TTL: new JsonNumber('1e3'),
      a: [new JsonNumber('-0.5'), true, null, 'x\u00e9\n'],
    });
  });

  it('reads the first value only, as json.Decoder; whitespace alone is no value', () => {
    expect(readFirstValue('{"a":"b"}} trailing')).to.deep.equal({ a: 'b' });
    expect(readFirstValue(' \n\t')).to.equal(undefined);
    expect(readFirstValue('{"__proto__":1}')).to.have.own.property('__proto__');
  });

  it('fails with Go\'s scanner messages', () => {
    const cases: Array<[string, string]> = [
      ['{bad', "invalid character 'b' looking for beginning of object key string"],
      ['{"a":', 'unexpected EOF'],
      ['{"a" 1}', "invalid character '1' after object key"],
      ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
      ['[1 2]', "invalid character '2' after array element"],
      ['{"a":x}', "invalid character 'x' looking for beginning of value"],
      ['{"a":"\\q"}', "invalid character 'q' in string escape code"],
      ['{"a":"\\u12"}', "invalid character '\"' in \\u hexadecimal character escape"],
      ['{"a":"\t"}', "invalid character '\\t' in string literal"],
      ['{"a":-}', "invalid character '}' in numeric literal"],
      ['{"a":1.}', "invalid character '}' after decimal point in numeric literal"],
      ['{"a":1e}', "invalid character '}' in exponent of numeric literal"],
      ['{"a":tru}', "invalid character '}' in literal true (expecting 'e')"],
      ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ];
    for (const [text, message] of cases) expect(() => readFirstValue(text), text).to.throw(JsonSyntaxError, message);
  });

  it('readWholeValue: json.Unmarshal, which refuses what follows the value and names an early end differently', () => {
    expect(readWholeValue(' 12 ')).to.deep.equal(new JsonNumber('12'));
    expect(() => readWholeValue('1 2')).to.throw(JsonSyntaxError, "invalid character '2' after top-level value");
    expect(() => readWholeValue('')).to.throw(JsonSyntaxError, 'unexpected end of JSON input');
  });
});
