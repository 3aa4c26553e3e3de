import { expect } from 'chai';
import { OutputFormatError } from './errors.js';
import { formatStatus, statusFormat } from './status-format.js';

// What etcdctl 3.4.23 printed for an etcd snapshot of five changes.
const status = { hash: 0x7528ae19, revision: 6, totalKey: 10, totalSize: 20480 };

describe('snapshot status formats', () => {
  it('simple: hash in hex, revision, total keys, size in SI units', () => {
    expect(formatStatus(status, 'simple')).to.equal('7528ae19, 6, 10, 20 kB\n');
  });

  it('table: etcdctl\'s table, character for character', () => {
    expect(formatStatus(status, 'table')).to.equal([
      '+----------+----------+------------+------------+',
      '|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |',
      '+----------+----------+------------+------------+',
      '| 7528ae19 |        6 |         10 |      20 kB |',
      '+----------+----------+------------+------------+',
      '',
    ].join('\n'));
  });

  it('table: a column wider than its header centres the header, the odd space on the right', () => {
    const lines = formatStatus({ hash: 1, revision: 1_234_567_890, totalKey: 1, totalSize: 1 }, 'table').split('\n');
    expect(lines[1]).to.equal('| HASH |  REVISION  | TOTAL KEYS | TOTAL SIZE |');
    expect(lines[3]).to.equal('|    1 | 1234567890 |          1 |        1 B |');
  });

  it('json and fields: the numbers as they are', () => {
    expect(formatStatus(status, 'json')).to.equal('{"hash":1965600281,"revision":6,"totalKey":10,"totalSize":20480}\n');
    expect(formatStatus(status, 'fields')).to.equal('"Hash" : 1965600281\n"Revision" : 6\n"Keys" : 10\n"Size" : 20480\n');
  });

  it('refuses other formats with etcdctl\'s words and exit code 4', () => {
    expect(statusFormat('table')).to.equal('table');
    for (const [name, message] of [['yaml', 'unsupported output format'], ['protobuf', 'protobuf not supported as output format']] as const) {
      expect(() => statusFormat(name)).to.throw(OutputFormatError, message);
      expect(new OutputFormatError(name).exitCode).to.equal(4);
    }
  });
});
