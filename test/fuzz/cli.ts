// npm run fuzz -- [--runs N] [--seed N] [--path P] [--time-limit SECONDS] [--calls N] [--grep TEXT]
//
// Runs the fuzz suite (dist/test/fuzz/*.test.js) with mocha, as long as asked:
// --runs sets the cases of every property (CI's defaults are small), --seed
// and --path replay a failure as the report printed it, --time-limit bounds
// each property (default: none, the runs decide), --grep picks properties by
// name. See docs/fuzzing.md.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const flags: Record<string, string> = {
  '--runs': 'FUZZ_RUNS',
  '--seed': 'FUZZ_SEED',
  '--path': 'FUZZ_PATH',
  '--time-limit': 'FUZZ_TIME_LIMIT_S',
  '--calls': 'FUZZ_CALLS_PER_CASE',
};

const usage = 'usage: npm run fuzz -- [--runs N] [--seed N] [--path P] [--time-limit SECONDS] [--calls N] [--grep TEXT]';

function parse(args: string[]): { env: Record<string, string>; grep: string | undefined } {
  // Without --time-limit a long run is bounded by its runs only.
  const env: Record<string, string> = { FUZZ_TIME_LIMIT_S: '0' };
  let grep: string | undefined;
  for (let index = 0; index < args.length; index += 2) {
    const flag = args[index];
    const value = args[index + 1];
    if (flag === undefined || value === undefined) throw new Error(`${flag} needs a value\n${usage}`);
    const variable = flags[flag];
    if (flag === '--grep') grep = value;
    else if (variable !== undefined) env[variable] = value;
    else throw new Error(`unknown flag ${flag}\n${usage}`);
  }
  return { env, grep };
}

function main(): number {
  let parsed;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const files = readdirSync(here).filter((name) => name.endsWith('.test.js')).map((name) => join(here, name));
  const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
  const args = [mocha, '--no-config', '--timeout', '0', '--exit', ...(parsed.grep !== undefined ? ['--grep', parsed.grep] : []), ...files];
  const result = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, ...parsed.env } });
  return result.status ?? 1;
}

process.exitCode = main();
