import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { afterWarmup, parseProcStatus, slopeBytesPerMinute } from './memory-figures.js';

describe('bench memory figures', () => {
  it('reads VmRSS and VmHWM from /proc/PID/status, in bytes', () => {
    const text = 'Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nRssAnon:\t 512 kB\n';
    expect(parseProcStatus(text)).to.deep.equal({ residentBytes: 1024 * 1024, peakBytes: 2048 * 1024 });
    const own = parseProcStatus(readFileSync('/proc/self/status', 'utf8'));
    expect(own.residentBytes).to.be.greaterThan(0);
    expect(own.peakBytes).to.be.at.least(own.residentBytes);
  });

  it('says which line is missing', () => {
    expect(() => parseProcStatus('VmRSS:\t 1 kB\n')).to.throw('/proc status has no VmHWM line');
  });

  it('fits the slope per minute by least squares', () => {
    // 1 MB more every 30 s, with noise that cancels out: 2 MB per minute.
    const samples = [0, 1, 2, 3].map((step) => ({ atMs: step * 30_000, bytes: step * 1_000_000 + (step % 2 === 0 ? 100 : -100) }));
    expect(slopeBytesPerMinute(samples)).to.be.closeTo(2_000_000, 200);
    expect(slopeBytesPerMinute([{ atMs: 5, bytes: 1 }, { atMs: 9, bytes: 1 }])).to.equal(0);
    expect(slopeBytesPerMinute([{ atMs: 5, bytes: 1 }])).to.be.NaN;
    expect(slopeBytesPerMinute([{ atMs: 5, bytes: 1 }, { atMs: 5, bytes: 2 }])).to.be.NaN;
  });

  it('drops the warm-up part of a run by time, not by count', () => {
    const samples = [0, 10, 20, 90, 100].map((atMs) => ({ atMs, bytes: atMs }));
    expect(afterWarmup(samples, 0.25).map((sample) => sample.atMs)).to.deep.equal([90, 100]);
    expect(afterWarmup([], 0.5)).to.deep.equal([]);
  });
});
