// Election failover across separate processes, against cairn and etcd: three
// candidate processes campaign; the leader process is killed with SIGKILL
// each round, and the next candidate in line takes over once the dead
// leader's 2 s lease expires. An observer's leader$ sees every leader, in
// order, and never two at once.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Subscription } from 'rxjs';
import { Election, type Leader } from '../../recipes/index.js';
import { must } from '../harness/must.js';
import { eventually, Fixture, selectedTargets } from './support.js';

const worker = join(dirname(fileURLToPath(import.meta.url)), 'election-worker.js');
const candidatesCount = 3;

interface Candidate {
  value: string;
  child: ChildProcess;
  output: () => string;
}

for (const target of selectedTargets()) {
  describe(`recipes: election across processes against ${target.kind}`, function () {
    const fixture = new Fixture(target);
    const candidates: Candidate[] = [];
    let observing: Subscription | undefined;

    before(async function () {
      if (!target.available()) return this.skip();
      await fixture.start();
    });
    after(async () => {
      observing?.unsubscribe();
      for (const { child } of candidates) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await fixture.stop();
    });

    function campaign(value: string): Candidate {
      const child = spawn(process.execPath, [worker, fixture.server.endpoint, 'procs-election', value], { stdio: ['ignore', 'pipe', 'inherit'] });
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const candidate = { value, child, output: () => output };
      candidates.push(candidate);
      return candidate;
    }

    it('the next candidate leads after the leader process is killed; leader$ sees each leader in order', async () => {
      const observer = await fixture.client();
      const seen: Leader[] = [];
      observing = Election.leader$(observer, 'procs-election').subscribe((leader) => seen.push(leader));
      // Candidates join one after another, so the queue order (by create revision) is known.
      for (let index = 0; index < candidatesCount; index++) {
        const candidate = campaign(`candidate-${index}`);
        await eventually(() => candidate.output().includes('campaigning'), 15_000, `${candidate.value} campaigning`);
      }
      for (let round = 0; round < candidatesCount; round++) {
        const leader = must(candidates[round], `candidate ${round}`);
        await eventually(() => leader.output().includes('elected'), 15_000, `${leader.value} elected`);
        // Only the leader in line says it leads.
        for (const other of candidates.slice(round + 1)) expect(other.output()).to.not.include('elected');
        await eventually(() => seen.some((item) => item.value === leader.value), 15_000, `leader$ to see ${leader.value}`);
        leader.child.kill('SIGKILL');
      }
      const values = seen.map((item) => item.value);
      expect(values).to.deep.equal(candidates.map((candidate) => candidate.value));
      const terms = seen.map((item) => item.createRevision);
      let previous: bigint | undefined;
      for (const term of terms) {
        if (previous !== undefined) expect(term > previous).to.equal(true);
        previous = term;
      }
    });
  });
}
