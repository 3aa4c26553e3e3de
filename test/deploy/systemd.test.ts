// deploy/systemd: the unit as systemd reads it (systemd-analyze verify, when
// the machine has systemd), run as the sysusers user from the image's
// install layout, restarted on failure only, and hardened: every system call
// a member makes from start to SIGTERM (traced with strace) is one the
// unit's SystemCallFilter= allows. That its members form a cluster is
// clusters.test.ts's part.
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../harness/command.js';
import { must } from '../harness/must.js';
import { repositoryRoot, sourceFiles, withoutComments } from '../harness/sources.js';
import { deployPaths, readText } from './deploy-files.js';
import { runtimeImage } from './launches.js';
import { get, httpGet, put } from './loopback-cluster.js';
import { startTracedMember } from './syscall-trace.js';
import { environmentAssignments, parseUnit, unitValue, unitValues } from './systemd-unit.js';
import { requireTool } from './tools.js';

const unit = parseUnit(readText(deployPaths.systemdUnit));
const service = (key: string): string => unitValue(unit, 'Service', key);
const environment = environmentAssignments(unitValues(unit, 'Service', 'Environment'));

describe('deploy/systemd/cairn.service', () => {
  it('is Type=exec, as cairn does not speak sd_notify', () => {
    expect(service('Type')).to.equal('exec');
    const notifying = sourceFiles('server').filter((path) => withoutComments(readText(join(repositoryRoot, path))).includes('NOTIFY_SOCKET'));
    expect(notifying, 'cairn now speaks sd_notify: Type=notify would fit').to.deep.equal([]);
  });

  it('runs node on the image\'s layout under /opt/cairn, as the user cairn.sysusers creates, configured by ETCD_ variables', () => {
    const image = runtimeImage();
    expect(service('ExecStart').split(' ')).to.deep.equal(['/usr/bin/node', ...image.entrypoint.slice(1)]);
    const [kind, user, , , home] = must(readText(deployPaths.systemdUsers).split('\n').find((line) => line.startsWith('u ')), 'a u line').match(/"[^"]*"|\S+/g) ?? [];
    expect(kind).to.equal('u');
    expect([service('User'), service('Group')]).to.deep.equal([user, user]);
    expect(home).to.equal(environment.ETCD_DATA_DIR);
    expect(service('EnvironmentFile')).to.equal('-/etc/default/cairn');
  });

  it('restarts on failure only (SIGTERM ends it with 0) and raises the open-file limit', () => {
    expect(service('Restart')).to.equal('on-failure');
    expect(service('KillSignal')).to.equal('SIGTERM');
    expect(Number(service('LimitNOFILE'))).to.be.at.least(65_536);
  });

  it('is hardened: read-only system but for the data directory, no new privileges, private /tmp and devices, no capabilities', () => {
    expect(service('ProtectSystem')).to.equal('strict');
    expect(`/var/lib/${service('StateDirectory')}`).to.equal(environment.ETCD_DATA_DIR);
    expect(service('ReadWritePaths')).to.equal(environment.ETCD_DATA_DIR);
    for (const key of ['NoNewPrivileges', 'PrivateTmp', 'PrivateDevices', 'ProtectHome', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectControlGroups', 'RestrictSUIDSGID', 'LockPersonality']) {
      expect(service(key), key).to.equal('yes');
    }
    expect(service('CapabilityBoundingSet')).to.equal('');
    expect(service('RestrictAddressFamilies').split(' '), 'the JSON gateway dials a Unix socket').to.include('AF_UNIX');
    expect(unitValues(unit, 'Service', 'MemoryDenyWriteExecute'), 'V8 writes the code it runs').to.deep.equal([]);
  });

  it('passes systemd-analyze verify without a warning', async function () {
    const analyze = await requireTool(this, 'systemd-analyze', ['--version'], 'systemd');
    const dir = mkdtempSync(join(tmpdir(), 'cairn-unit-'));
    try {
      copyFileSync(deployPaths.systemdUnit, join(dir, 'cairn.service'));
      const verified = await runCommand(analyze, ['verify', join(dir, 'cairn.service')]);
      expect(verified, 'systemd-analyze verify').to.deep.include({ code: 0, stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/systemd/cairn.service: SystemCallFilter= against what a member calls', function () {
  this.timeout(40_000);

  /** The system calls `filter` (SystemCallFilter= values: @groups and names) allows, as systemd expands the groups. */
  async function allowed(analyze: string, filter: readonly string[]): Promise<Set<string>> {
    const names = new Set<string>();
    const expand = async (entry: string): Promise<void> => {
      if (entry.startsWith('~')) throw new Error(`${entry}: a deny-list; the unit uses an allow-list`);
      if (!entry.startsWith('@')) {
        names.add(entry);
        return;
      }
      const listed = await runCommand(analyze, ['syscall-filter', entry]);
      expect(listed.code, listed.stderr).to.equal(0);
      const members = listed.stdout.split('\n').slice(1).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
      for (const member of members) await expand(member);
    };
    for (const entry of filter.flatMap((value) => value.split(/\s+/))) await expand(entry);
    return names;
  }

  it('allows every call of a member\'s start, writes, reads, HTTP endpoints and SIGTERM stop', async function () {
    const analyze = await requireTool(this, 'systemd-analyze', ['--version'], 'systemd');
    const strace = await requireTool(this, 'strace', ['-V'], 'strace');
    const member = await startTracedMember(strace);
    try {
      const target = { member: 'traced', clientUrl: member.server.clientUrl };
      await put(target, 'deploy/traced', 'value');
      expect(await get(target, 'deploy/traced')).to.equal('value');
      for (const path of ['/health', '/readyz', '/livez', '/metrics', '/version']) expect((await httpGet(target, path)).status, path).to.equal(200);
      expect(await member.stop()).to.equal(0);
      const calls = member.syscalls();
      expect(calls.size, 'a trace of the whole life').to.be.greaterThan(30);
      const permitted = await allowed(analyze, unitValues(unit, 'Service', 'SystemCallFilter'));
      expect([...calls].filter((call) => !permitted.has(call)).sort(), 'calls outside SystemCallFilter=').to.deep.equal([]);
    } finally {
      await member.destroy();
    }
  });
});
