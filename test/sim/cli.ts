/**
 * npm run sim -- --seeds N [--nodes 3|5] [--steps M] [--from S] [--bug commit-previous-term|vote-twice]
 * npm run sim -- --seed S [--nodes 3|5] [--steps M] [--profile mixed|churn] [--bug ...]
 *
 * Runs simulated clusters of the real Raft core. A failure prints its seed, the violation and the
 * tail of the event trace; replay it with --seed. Exit code 1 if any seed failed.
 */
import type { DeliberateBugs } from '../../server/raft/index.js';
import { report } from './report.js';
import { runSeed, type RunOptions } from './run.js';

interface Args {
  seed?: number;
  seeds: number;
  from: number;
  nodes?: number;
  steps?: number;
  bugs?: DeliberateBugs;
  profile?: 'mixed' | 'churn';
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: 100, from: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const int = () => {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer, got ${value}`);
      i++;
      return n;
    };
    switch (flag) {
      case '--seed': args.seed = int(); break;
      case '--seeds': args.seeds = int(); break;
      case '--from': args.from = int(); break;
      case '--nodes': args.nodes = int(); if (args.nodes !== 3 && args.nodes !== 5) throw new Error('--nodes must be 3 or 5'); break;
      case '--steps': args.steps = int(); break;
      case '--profile':
        i++;
        if (value !== 'mixed' && value !== 'churn') throw new Error('--profile must be mixed or churn');
        args.profile = value;
        break;
      case '--bug':
        i++;
        if (value === 'commit-previous-term') args.bugs = { commitPreviousTermEntries: true };
        else if (value === 'vote-twice') args.bugs = { voteTwicePerTerm: true };
        else throw new Error('--bug must be commit-previous-term or vote-twice');
        break;
      default: throw new Error(`unknown flag ${flag}`);
    }
  }
  return args;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const base: Omit<RunOptions, 'seed'> = { nodes: args.nodes, steps: args.steps, bugs: args.bugs, profile: args.profile };
  if (args.seed !== undefined) {
    const r = runSeed({ ...base, seed: args.seed });
    console.log(`seed ${r.seed} nodes ${r.nodes} digest ${r.digest} events ${r.events} units ${r.unitsRun} committed ${r.committed} faults ${r.faults}`);
    console.log(`stats ${JSON.stringify(r.stats)}`);
    console.log(`operations ${JSON.stringify(r.operations)}`);
    if (!r.ok) {
      console.log(report(r));
      return 1;
    }
    return 0;
  }
  const started = performance.now();
  let failed = 0;
  let faults = 0;
  let committed = 0;
  const totals = new Map<string, number>();
  let inconclusive = 0;
  for (let seed = args.from; seed < args.from + args.seeds; seed++) {
    const r = runSeed({ ...base, seed });
    faults += r.faults;
    committed += r.committed;
    for (const [k, v] of Object.entries(r.stats)) totals.set(k, (totals.get(k) ?? 0) + v);
    totals.set('opsCompleted', (totals.get('opsCompleted') ?? 0) + r.operations.completed);
    totals.set('opsAmbiguous', (totals.get('opsAmbiguous') ?? 0) + r.operations.ambiguous);
    totals.set('linStatesExplored', (totals.get('linStatesExplored') ?? 0) + r.operations.statesExplored);
    if (r.operations.linearizability === 'inconclusive') inconclusive++;
    if (!r.ok) {
      failed++;
      console.log(report(r));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${args.seeds} seeds, ${failed} failed, ${seconds.toFixed(1)} s (${((args.seeds / seconds) * 60).toFixed(0)} seeds/min), mean faults/seed ${(faults / args.seeds).toFixed(1)}, mean committed/seed ${(committed / args.seeds).toFixed(1)}`);
  const means = [...totals].map(([k, v]) => `${k} ${(v / args.seeds).toFixed(2)}`).join(', ');
  console.log(`mean per seed: ${means}`);
  console.log(`linearizability: ${args.seeds - failed - inconclusive} histories linearizable, ${inconclusive} inconclusive (search budget), ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
