// Every YAML file under deploy/ passes yamllint --strict with deploy/.yamllint
// (yamllint's defaults but for line length and "---"), as a reviewer would
// run it: indentation, duplicate keys, truthy values, trailing spaces.
// The chart's templates are Go templates and left out by the config.
import { expect } from 'chai';
import { runCommand } from '../harness/command.js';
import { repositoryRoot } from '../harness/sources.js';
import { requireTool } from './tools.js';

describe('deploy/: yamllint', () => {
  it('finds nothing, warnings included', async function () {
    const yamllint = await requireTool(this, 'yamllint', ['--version'], 'yamllint');
    const linted = await runCommand(yamllint, ['--strict', '-f', 'parsable', '-c', 'deploy/.yamllint', 'deploy'], { cwd: repositoryRoot });
    expect(linted.stdout + linted.stderr).to.equal('');
    expect(linted.code).to.equal(0);
  });
});
