/**
 * Contract 4: server/raft is a pure state machine. This scans its non-test sources for I/O, clocks,
 * timers, ambient randomness and process access.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const raftDir = join(root, 'server', 'raft');

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

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** Drop comments so that prose may mention what code must not use. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('server/raft purity (contract 4)', () => {
  it('scans a non-empty set of sources', () => {
    expect(sources(raftDir).length).to.be.greaterThan(10);
  });

  it('uses no I/O, clocks, timers, ambient randomness or process access', () => {
    const problems: string[] = [];
    for (const file of sources(raftDir)) {
      const lines = code(readFileSync(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        for (const [pattern, what] of forbidden) {
          if (pattern.test(line)) problems.push(`${relative(root, file)}:${i + 1}: ${what}: ${line.trim()}`);
        }
      });
    }
    expect(problems.join('\n')).to.equal('');
  });

  it('the scan itself catches a forbidden use', () => {
    const sample = code("import { readFileSync } from 'node:fs';\nconst t = Date.now(); // Date in a comment is fine\n");
    const hits = forbidden.filter(([p]) => p.test(sample)).map(([, what]) => what);
    expect(hits).to.include.members(['node:* import', 'Date']);
  });
});
