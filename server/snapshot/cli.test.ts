import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realClock } from '../clock.js';
import { writeSnapshotFile } from '../testing/snapshot-file.js';
import { runSnapshotCommand } from './cli.js';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runSnapshotCommand(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), clock: realClock });
  return { code, stdout, stderr };
}

describe('cairn snapshot (command line)', () => {
  let dir = '';
  let snapshot = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-snapshot-cli-'));
    snapshot = await writeSnapshotFile(join(dir, 's.db'), (temp) => void temp.write((txn) => void txn.put(Buffer.from('a'), Buffer.from('1'), 0n)));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('status prints the revision and counts every record of the image', async () => {
    const { code, stdout } = await run(['status', snapshot, '-w', 'json']);
    expect(code).to.equal(0);
    const status = JSON.parse(stdout) as { revision: number; totalKey: number; hash: number };
    expect(status.revision).to.equal(2);
    // The one revision record: this store applied no log entry, granted no lease and compacted nothing.
    expect(status.totalKey).to.equal(1);
    expect((await run(['status', snapshot, '-w', 'json'])).stdout, 'the hash is a function of the content').to.equal(stdout);
  });

  it('restore with the server\'s defaults writes <name>.cairn beside the working directory', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const { code, stderr } = await run(['restore', snapshot, '--name', 'solo']);
      expect(code, stderr).to.equal(0);
      expect(stderr).to.match(/^restored .* into solo\.cairn: revision 2, 1 revision records, 0 leases; member solo \([0-9a-f]+\) of new cluster [0-9a-f]+\n$/);
      expect(existsSync(join(dir, 'solo.cairn', 'member', 'wal'))).to.equal(true);
    } finally {
      process.chdir(cwd);
    }
  });

  it('answers bad command lines with etcdctl\'s messages and exit codes', async () => {
    const cases: Array<[string[], number, string]> = [
      [['status'], 128, 'Error: snapshot status requires exactly one argument\n'],
      [['restore', 'a', 'b'], 128, 'Error: snapshot restore requires exactly one argument\n'],
      [['status', snapshot, '-w', 'yaml'], 4, 'Error: unsupported output format\n'],
      [['restore', snapshot, '--wal-dir', 'x'], 1, 'Error: unknown flag: --wal-dir\n'],
      [['status', join(dir, 'missing.db')], 1, `Error: open ${join(dir, 'missing.db')}: no such file or directory\n`],
      [['bogus'], 1, 'Error: unknown command "bogus" for "cairn snapshot"\n'],
    ];
    for (const [argv, code, stderr] of cases) expect(await run(argv), argv.join(' ')).to.deep.equal({ code, stdout: '', stderr });
    expect((await run([])).stdout).to.match(/^Usage:/);
  });
});
