import type { RunResult } from './run.js';

/** A failed run, readably: seed, violation, how to replay it, and the last events. */
export function report(r: RunResult): string {
  const lines = [
    `FAIL seed ${r.seed} (${r.nodes} nodes): ${r.violation}`,
    `replay: npm run sim -- --seed ${r.seed} --nodes ${r.nodes}`,
    '--- trace tail ---',
    ...r.traceTail,
  ];
  return lines.join('\n');
}
