/**
 * Contract 4: server/raft is a pure state machine. This scans its non-test sources for I/O, clocks,
 * timers, ambient randomness and process access.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot, sourceFiles, withoutComments } from '../harness/sources.js';

const forbidden: Array<[RegExp, string]> = [
  [/from\s+['"]node:/, 'node:* import'],
  [/from\s+['"](fs|path|os|child_process|net|http|https|crypto|timers|worker_threads|util|events)['"]/, 'node built-in import'],
  [/\brequire\s*\(/, 'require()'],
  [/\bimport\s*\(/, 'dynamic import()'],
  [/\bDate\b/, 'Date'],
  [/\bperformance\b/, 'performance'],
  [/Math\.random/, 'Math.random'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask|clearTimeout|clearInterval)\b/, 'timer'],
  [/\bprocess\b/, 'process'],
  [/\bBuffer\b/, 'Buffer'],
  [/\bglobalThis\b/, 'globalThis'],
  [/\bcrypto\b/, 'crypto'],
  [/\b(async|await)\b/, 'async code'],
  [/\bPromise\b/, 'Promise'],
];

describe('server/raft purity (contract 4)', () => {
  it('scans a non-empty set of sources', () => {
    expect(sourceFiles('server/raft').length).to.be.greaterThan(10);
  });

  it('uses no I/O, clocks, timers, ambient randomness or process access', () => {
    const problems: string[] = [];
    for (const file of sourceFiles('server/raft')) {
      const lines = withoutComments(readFileSync(join(repositoryRoot, file), 'utf8')).split('\n');
      lines.forEach((line, i) => {
        for (const [pattern, what] of forbidden) {
          if (pattern.test(line)) problems.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
        }
      });
    }
    expect(problems.join('\n')).to.equal('');
  });

  it('the scan itself catches a forbidden use', () => {
    const sample = withoutComments("import { readFileSync } from 'node:fs';\nconst t = Date.now(); // Date in a comment is fine\n");
    const hits = forbidden.filter(([p]) => p.test(sample)).map(([, what]) => what);
    expect(hits).to.include.members(['node:* import', 'Date']);
  });
});
