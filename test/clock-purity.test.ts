/**
 * Contract 10: nothing outside the Clock's real implementation (server/clock.ts) reads the time or
 * sets timers; everything else is given a Clock. This scans the server's non-test sources (the test
 * helpers in server/testing/ aside) for clocks, timers and the timers modules.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot, sourceFiles, withoutComments } from './harness/sources.js';

/** Paths relative to the repository, with forward slashes. */
const clockFile = 'server/clock.ts';
const testingDir = 'server/testing/';

const forbidden: Array<[RegExp, string]> = [
  [/\bDate\s*\.\s*now\b/, 'Date.now'],
  // `new Date(ms)` only formats a time it is given; without an argument it reads the clock.
  [/\bnew\s+Date\b(?!\s*\(\s*[^\s)])/, 'new Date()'],
  [/(?<![\w$.]|\bnew\s+)Date\s*\(/, 'Date()'],
  [/\bperformance\s*\.\s*now\b/, 'performance.now'],
  [/\bprocess\s*\.\s*hrtime\b/, 'process.hrtime'],
  [/\b(setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|clearImmediate)\b/, 'timer'],
  [/['"](node:)?timers(\/promises)?['"]/, 'timers module'],
];

/** The server sources that must take their time from a Clock. */
function scanned(): string[] {
  return sourceFiles('server').filter((path) => path !== clockFile && !path.startsWith(testingDir));
}

/** Each forbidden use in `text`, as "line: what: code". */
function violations(text: string): string[] {
  const found: string[] = [];
  withoutComments(text)
    .split('\n')
    .forEach((line, i) => {
      for (const [pattern, what] of forbidden) if (pattern.test(line)) found.push(`${i + 1}: ${what}: ${line.trim()}`);
    });
  return found;
}

describe('server clock purity (contract 10)', () => {
  it('scans every server source but the Clock and the test helpers', () => {
    const files = scanned();
    expect(files.length).to.be.greaterThan(50);
    expect(files).to.include.members(['server/server.ts', 'server/node/raft-node.ts', 'server/node/loop.ts', 'server/watch/hub.ts']);
    expect(files).to.not.include(clockFile);
    expect(files.filter((path) => path.startsWith(testingDir) || path.endsWith('.test.ts'))).to.deep.equal([]);
  });

  it('reads no time and sets no timers outside the Clock', () => {
    const problems: string[] = [];
    for (const path of scanned()) {
      for (const violation of violations(readFileSync(join(repositoryRoot, path), 'utf8'))) problems.push(`${path}:${violation}`);
    }
    expect(problems.join('\n')).to.equal('');
  });

  it('the scan itself catches each forbidden use, at its line, and ignores comments', () => {
    const sample = [
      '// Date.now() and setTimeout in a comment are fine',
      '/* so is performance.now()',
      '   across lines */',
      "import { setTimeout as wait } from 'node:timers/promises';",
      'const startedMs = Date.now();',
      'const today = new Date();',
      'const stamp = new Date(clock.wallMs()).toISOString(); // formats a given time',
      'const text = Date();',
      'performance.now(); process.hrtime.bigint();',
      'setImmediate(run); clearInterval(handle);',
      "const url = 'http://example.com'; setInterval(run, 1);",
    ].join('\n');
    expect(violations(sample).map((violation) => violation.split(':').slice(0, 2).join(':'))).to.deep.equal([
      '4: timer',
      '4: timers module',
      '5: Date.now',
      '6: new Date()',
      '8: Date()',
      '9: performance.now',
      '9: process.hrtime',
      '10: timer',
      '11: timer',
    ]);
  });
});
