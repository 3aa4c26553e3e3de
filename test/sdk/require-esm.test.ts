// The SDK is ESM only; CommonJS code loads it with require() through Node's
// require(esm), on by default from Node 20.19 (node --no-experimental-require-module
// turns it off). Checked by running a .cjs file in a child process.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const distRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sdkEntry = join(distRoot, 'client', 'index.js');
const recipesEntry = join(distRoot, 'recipes', 'index.js');

const script = `
const sdk = require(${JSON.stringify(sdkEntry)});
const recipes = require(${JSON.stringify(recipesEntry)});
import(${JSON.stringify(pathToFileURL(sdkEntry).href)}).then((esm) => {
  console.log(JSON.stringify({
    connect: typeof sdk.connect,
    mutex: typeof recipes.Mutex,
    sameModule: esm.connect === sdk.connect && esm.EtcdError === sdk.EtcdError,
    hasDefault: 'default' in sdk,
  }));
});
`;

describe('sdk loaded with require() from CommonJS', function () {
  let directory: string;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'sdk-require-'));
    writeFileSync(join(directory, 'load.cjs'), script);
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('require() returns the same module instance import() does, without a warning', () => {
    const run = spawnSync(process.execPath, [join(directory, 'load.cjs')], { encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.equal({ connect: 'function', mutex: 'function', sameModule: true, hasDefault: false });
    expect(run.stderr).to.equal('');
  });

  it('fails with ERR_REQUIRE_ESM when require(esm) is turned off', () => {
    const run = spawnSync(process.execPath, ['--no-experimental-require-module', join(directory, 'load.cjs')], { encoding: 'utf8' });
    expect(run.status).to.not.equal(0);
    expect(run.stderr).to.contain('ERR_REQUIRE_ESM');
  });
});
