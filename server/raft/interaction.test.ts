/**
 * Data-driven interaction tests (etcd-io/raft's testdata style): every file in
 * server/raft/testdata is a script of commands, each followed by `----` and its expected output.
 * See testing/interaction.ts for the commands.
 *
 *   REWRITE=1 npx mocha --no-config dist/server/raft/interaction.test.js
 *
 * rewrites the expected outputs from what the core does now; review the diff before keeping it.
 *
 * File format: a block is optional `#` comment lines, one command line, `----`, then output lines
 * up to a blank line. Outputs never contain blank lines.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { must } from '../../test/harness/must.js';
import { InteractionEnv, type Command } from './testing/interaction.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'server', 'raft', 'testdata');
const rewrite = process.env.REWRITE === '1';

interface Block {
  comments: string[];
  command: string;
  expected: string;
}

function parse(text: string, file: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let i = 0;
  for (;;) {
    const comments: string[] = [];
    let line = lines[i];
    while (line !== undefined && (line.startsWith('#') || line.trim() === '')) {
      if (line.startsWith('#')) comments.push(line);
      else if (comments.length > 0) comments.push('');
      line = lines[++i];
    }
    if (line === undefined) break;
    const command = line;
    i++;
    if (lines[i] !== '----') throw new Error(`${file}:${i + 1}: expected ---- after "${command}"`);
    i++;
    const out: string[] = [];
    for (let next = lines[i]; next !== undefined && next.trim() !== ''; next = lines[++i]) out.push(next);
    while (comments.length > 0 && comments[comments.length - 1] === '') comments.pop();
    blocks.push({ comments, command, expected: out.join('\n') });
  }
  return blocks;
}

function parseCommand(line: string): Command {
  const [name, ...words] = line.trim().split(/\s+/);
  const args: string[] = [];
  const options = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) options.set(w.slice(0, eq), w.slice(eq + 1));
    else args.push(w);
  }
  return { name: must(name, `a command in "${line}"`), args, options };
}

function format(blocks: Block[]): string {
  return blocks.map((b) => [...b.comments, b.command, '----', b.expected].join('\n')).join('\n\n') + '\n';
}

describe('raft core: data-driven interaction scripts (server/raft/testdata)', () => {
  const files = readdirSync(testdata).filter((f) => f.endsWith('.txt')).sort();

  it('finds the scripts', () => {
    expect(files.length).to.be.greaterThanOrEqual(6);
  });

  for (const file of files) {
    it(file, () => {
      const path = join(testdata, file);
      const blocks = parse(readFileSync(path, 'utf8'), file);
      const env = new InteractionEnv();
      const results = blocks.map((block) => ({ block, output: env.handle(parseCommand(block.command)) }));
      if (rewrite) {
        writeFileSync(path, format(results.map(({ block, output }) => ({ ...block, expected: output }))));
        return;
      }
      results.forEach(({ block, output }, i) => {
        expect(output, `${file}: output of "${block.command}" (block ${i + 1}); REWRITE=1 regenerates`).to.equal(block.expected);
      });
    });
  }
});
