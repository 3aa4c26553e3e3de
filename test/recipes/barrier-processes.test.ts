// A double barrier across separate processes, against cairn and etcd: N
// processes arriving at different times all enter only once the last one
// arrived, and all leave only once the last one is leaving.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Fixture, selectedTargets, sleep } from './support.js';

const worker = join(dirname(fileURLToPath(import.meta.url)), 'barrier-worker.js');
const participants = 4;

for (const target of selectedTargets()) {
  describe(`recipes: double barrier across processes against ${target.kind}`, function () {
    const fixture = new Fixture(target);
    const children = new Set<ChildProcess>();
    let directory = '';

    before(async function () {
      if (!target.available()) return this.skip();
      await fixture.start();
      directory = mkdtempSync(join(tmpdir(), 'cairn-barrier-procs-'));
    });
    after(async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(directory, { recursive: true, force: true });
      await fixture.stop();
    });

    it(`${participants} processes enter together and leave together`, async () => {
      const log = join(directory, 'barrier.log');
      writeFileSync(log, '');
      const exits: Array<Promise<number | null>> = [];
      for (let index = 0; index < participants; index++) {
        // Staggered arrivals and different amounts of work inside the barrier.
        const child = spawn(process.execPath, [worker, fixture.server.endpoint, 'procs-barrier', String(participants), log, String(100 + 150 * index)], { stdio: 'inherit' });
        children.add(child);
        exits.push(new Promise((resolve) => child.on('close', (code) => resolve(code))));
        await sleep(300);
      }
      const codes = await Promise.all(exits);
      expect(codes.every((code) => code === 0), `exit codes ${codes.join(',')}`).to.equal(true);
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' '));
      const times = (what: string): number[] => lines.filter(([kind]) => kind === what).map(([, , at]) => Number(at));
      expect(times('arrive')).to.have.length(participants);
      expect(times('left')).to.have.length(participants);
      // Nobody entered before the last arrival, and nobody left before the last one started leaving.
      expect(Math.min(...times('entered'))).to.be.at.least(Math.max(...times('arrive')));
      expect(Math.min(...times('left'))).to.be.at.least(Math.max(...times('leaving')));
    });
  });
}
