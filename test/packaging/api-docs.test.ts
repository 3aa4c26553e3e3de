// The API reference (TypeDoc, typedoc.json: the SDK, the recipes and the
// embedded server) builds without a warning: every type a public signature
// uses is exported, and every {@link} resolves.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../harness/command.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('packaging: the API reference', function () {
  this.timeout(120_000);

  it('builds from the public entry points with no warning, and documents connect, Mutex and startEmbeddedServer', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cairn-api-docs-'));
    try {
      const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
      const result = await runCommand(process.execPath, [typedoc, '--out', out], { cwd: root, timeoutMs: 110_000 });
      expect(result.code, `${result.stdout}${result.stderr}`).to.equal(0);
      expect(`${result.stdout}${result.stderr}`).to.not.match(/warning|error/i);
      const pages = readdirSync(join(out, 'functions')).join(' ') + readdirSync(join(out, 'classes')).join(' ');
      expect(pages).to.include('connect').and.include('Mutex').and.include('startEmbeddedServer');
      expect(readFileSync(join(out, 'index.html'), 'utf8')).to.include('cairn');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
