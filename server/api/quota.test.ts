import { linesLog } from '../testing/recording-log.js';
import { expect } from 'chai';
import { AlarmRequest_AlarmAction, AlarmType, PutRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { NoSpaceError } from '../alarm/errors.js';
import { BackendQuota } from '../alarm/quota.js';
import type { ApplyResponse } from '../apply/applier.js';
import type { Proposal } from '../node/raft-node.js';
import { QuotaGuard } from './quota.js';

const memberId = 42n;
const quotaBytes = 1000;
const put = (valueBytes: number): { put: PutRequest } => ({ put: PutRequest.fromPartial({ key: Buffer.from('k'), value: Buffer.alloc(valueBytes) }) });

describe('QuotaGuard', () => {
  let sizeBytes: number;
  let raised: boolean;
  let proposals: Proposal[];
  /** Settles the proposal in flight (the node applies it). */
  let settle: () => void;
  let isLearner: boolean;
  let guard: QuotaGuard;
  const lines: string[] = [];

  beforeEach(() => {
    sizeBytes = 500;
    raised = false;
    proposals = [];
    settle = () => undefined;
    isLearner = false;
    const node = {
      memberId,
      get isLearner() {
        return isLearner;
      },
      propose: (proposal: Proposal) => {
        proposals.push(proposal);
        return new Promise<ApplyResponse>((resolve) => (settle = () => {
          raised = true;
          resolve({ header: undefined, alarms: [] });
        }));
      },
    };
    guard = new QuotaGuard(node, { isRaisedBy: () => raised }, new BackendQuota(quotaBytes, () => sizeBytes), linesLog(lines));
  });

  it('lets a write through while it fits, without proposing anything', async () => {
    await guard.admit(put(100));
    await guard.admit({ txn: { compare: [], success: [], failure: [] } });
    expect(proposals).to.deep.equal([]);
  });

  it('raises this member\'s NOSPACE alarm once for writes that do not fit, then refuses each with NoSpaceError', async () => {
    const first = guard.admit(put(300));
    const second = guard.admit({ leaseGrant: { ID: 1n, TTL: 60n } });
    sizeBytes = 990;
    const third = guard.admit({ leaseGrant: { ID: 2n, TTL: 60n } });
    await Promise.resolve();
    expect(proposals).to.deep.equal([{ alarm: { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: memberId, alarm: AlarmType.NOSPACE } }]);
    settle();
    for (const admitted of [first, third]) {
      const error = await admitted.then(() => undefined, (rejected: unknown) => rejected);
      expect(error).to.be.instanceOf(NoSpaceError);
    }
    await second; // 500 + 64 fits
    await guard.admit(put(900)).catch(() => undefined);
    expect(proposals, 'raised already: not proposed again').to.have.length(1);
  });

  it('whenAdmitted proceeds at once when the request fits, and refuses with NoSpaceError after raising the alarm when not', async () => {
    const outcomes: string[] = [];
    guard.whenAdmitted(put(100), () => outcomes.push('fits: proceeded'), () => outcomes.push('fits: refused'));
    expect(outcomes, 'synchronously, without a promise').to.deep.equal(['fits: proceeded']);
    const refused = new Promise<unknown>((resolve) => guard.whenAdmitted(put(600), () => resolve('proceeded'), resolve));
    await Promise.resolve();
    expect(proposals).to.have.length(1);
    settle();
    expect(await refused).to.be.instanceOf(NoSpaceError);
  });

  it('after an applied batch, raises the alarm if the backend outgrew its quota', () => {
    guard.applied();
    expect(proposals).to.have.length(0);
    sizeBytes = quotaBytes;
    guard.applied();
    guard.applied();
    expect(proposals, 'one proposal in flight').to.have.length(1);
    expect(lines.some((line) => line.includes('raising alarm NOSPACE'))).to.equal(true);
  });

  it('lets a learner\'s writes through to the node, which refuses them', async () => {
    isLearner = true;
    await guard.admit(put(900));
    expect(proposals).to.deep.equal([]);
  });
});
