// The repository's own sources, for the tests that read code as text (the
// Raft core's purity, the one Clock, the layering of server/).
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root (this file runs from dist/test/harness/). */
export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The non-test .ts sources under `dir` (a repository path such as 'server/raft'), as repository paths with forward slashes. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(repositoryRoot, dir))) {
    const path = `${dir}/${name}`;
    if (statSync(join(repositoryRoot, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * `text` without its comments, line breaks kept so that line numbers hold:
 * prose may name what code must not use.
 */
export function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, '')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}
