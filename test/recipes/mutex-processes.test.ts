// Mutex across separate processes, against cairn and etcd: 10 contending
// processes append to one shared log; no two holders overlap and fencing
// tokens strictly increase. A holder killed with SIGKILL is replaced after its
// session's lease TTL (2 s).
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { must } from '../harness/must.js';
import { Fixture, selectedTargets } from './support.js';

const worker = join(dirname(fileURLToPath(import.meta.url)), 'mutex-worker.js');
const processesCount = 10;
const rounds = 2;

for (const target of selectedTargets()) {
  describe(`recipes: mutex across processes against ${target.kind}`, function () {
    const fixture = new Fixture(target);
    const children = new Set<ChildProcess>();
    let directory = '';

    before(async function () {
      if (!target.available()) return this.skip();
      await fixture.start();
      directory = mkdtempSync(join(tmpdir(), 'cairn-mutex-procs-'));
    });
    afterEach(() => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      children.clear();
    });
    after(async () => {
      rmSync(directory, { recursive: true, force: true });
      await fixture.stop();
    });

    function run(args: string[]): { child: ChildProcess; exit: Promise<number | null>; stdout: () => string } {
      const child = spawn(process.execPath, [worker, fixture.server.endpoint, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.add(child);
      let stdout = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      return { child, exit, stdout: () => stdout };
    }

    it(`${processesCount} processes: no overlap, strictly increasing fencing tokens`, async () => {
      const log = join(directory, 'contention.log');
      writeFileSync(log, '');
      const workers = Array.from({ length: processesCount }, () => run(['procs', log, String(rounds), '20']));
      const codes = await Promise.all(workers.map((item) => item.exit));
      expect(codes.every((code) => code === 0), `exit codes ${codes.join(',')}`).to.equal(true);
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' '));
      expect(lines).to.have.length(processesCount * rounds * 2);
      let previous = 0n;
      for (let index = 0; index < lines.length; index += 2) {
        const [enter, pid, token] = must(lines[index], `log line ${index + 1}`);
        const [exit, exitPid, exitToken] = must(lines[index + 1], `log line ${index + 2}`);
        expect([enter, exit]).to.deep.equal(['enter', 'exit']);
        expect([exitPid, exitToken]).to.deep.equal([pid, token]);
        const fencingToken = BigInt(must(token, `the token on log line ${index + 1}`));
        expect(fencingToken > previous, `token ${token} after ${previous}`).to.equal(true);
        previous = fencingToken;
      }
    });

    it('a holder killed with SIGKILL is replaced after its lease TTL', async () => {
      const log = join(directory, 'kill.log');
      writeFileSync(log, '');
      const holder = run(['killed', log, '0', '0', 'hold-forever']);
      const deadline = Date.now() + 15_000;
      while (!holder.stdout().includes('held') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(holder.stdout()).to.include('held');
      const next = run(['killed', log, '1', '0']);
      while (!next.stdout().includes('ready') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(readFileSync(log, 'utf8')).to.equal('');
      const killedAt = Date.now();
      holder.child.kill('SIGKILL');
      expect(await next.exit).to.equal(0);
      const entered = Number(must(readFileSync(log, 'utf8').split('\n')[0], 'the first log line').split(' ')[3]);
      expect(entered - killedAt).to.be.within(500, 10_000); // waited for the 2 s lease, not for anything else
      const killedToken = BigInt(must(holder.stdout().trim().split(' ')[1], 'the token the killed holder printed'));
      expect(BigInt(must(readFileSync(log, 'utf8').split(' ')[2], 'the token of the next holder')) > killedToken).to.equal(true);
    });
  });
}
