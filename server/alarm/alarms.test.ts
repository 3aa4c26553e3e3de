import { expect } from 'chai';
import { AlarmRequest, AlarmRequest_AlarmAction, AlarmType, type AlarmMember } from '../../proto/gen/etcdserverpb/rpc.js';
import { openTempStore, type TempStore } from '../testing/temp-store.js';
import { AlarmSet, describeAlarm } from './alarms.js';

const { GET, ACTIVATE, DEACTIVATE } = AlarmRequest_AlarmAction;
const { NONE, NOSPACE, CORRUPT } = AlarmType;

describe('AlarmSet', () => {
  let temp: TempStore;
  let alarms: AlarmSet;

  /** Applies one Alarm request inside a backend transaction, as the applier does; returns the alarms it answers. */
  const apply = (action: AlarmRequest_AlarmAction, type: AlarmType, memberID = 0n): AlarmMember[] => {
    const response = temp.backend.transaction(() => alarms.apply(AlarmRequest.fromPartial({ action, alarm: type, memberID })));
    expect(response.header, 'etcd 3.4 answers Alarm without a header').to.equal(undefined);
    return response.alarms;
  };

  beforeEach(() => {
    temp = openTempStore();
    alarms = new AlarmSet(temp.backend);
  });

  afterEach(async () => {
    await temp.remove();
  });

  it('ACTIVATE answers the alarm it raised, and the same alarm when raised already', () => {
    expect(apply(ACTIVATE, NOSPACE, 5n)).to.deep.equal([{ memberID: 5n, alarm: NOSPACE }]);
    expect(apply(ACTIVATE, NOSPACE, 5n)).to.deep.equal([{ memberID: 5n, alarm: NOSPACE }]);
    expect(apply(GET, NONE)).to.have.length(1);
    expect(alarms.isRaised(NOSPACE)).to.equal(true);
    expect(alarms.isRaisedBy(5n, NOSPACE)).to.equal(true);
    expect(alarms.isRaisedBy(6n, NOSPACE)).to.equal(false);
    expect(alarms.isRaised(CORRUPT)).to.equal(false);
  });

  it('GET lists every alarm for NONE, else those of its type, in (type, member ID) order, whatever member it names', () => {
    apply(ACTIVATE, CORRUPT, 9n);
    apply(ACTIVATE, NOSPACE, 7n);
    apply(ACTIVATE, NOSPACE, 3n);
    apply(ACTIVATE, NONE, 4n);
    expect(apply(GET, NONE)).to.deep.equal([
      { memberID: 4n, alarm: NONE },
      { memberID: 3n, alarm: NOSPACE },
      { memberID: 7n, alarm: NOSPACE },
      { memberID: 9n, alarm: CORRUPT },
    ]);
    expect(apply(GET, NOSPACE, 99n)).to.deep.equal([{ memberID: 3n, alarm: NOSPACE }, { memberID: 7n, alarm: NOSPACE }]);
  });

  it('DEACTIVATE clears one member\'s alarm of one type and answers it; one not raised answers none', () => {
    apply(ACTIVATE, NOSPACE, 3n);
    apply(ACTIVATE, NOSPACE, 7n);
    expect(apply(DEACTIVATE, NOSPACE, 1n)).to.deep.equal([]);
    expect(apply(DEACTIVATE, CORRUPT, 3n)).to.deep.equal([]);
    expect(apply(DEACTIVATE, NOSPACE, 3n)).to.deep.equal([{ memberID: 3n, alarm: NOSPACE }]);
    expect(alarms.isRaised(NOSPACE), 'member 7 still has it').to.equal(true);
    expect(apply(DEACTIVATE, NOSPACE, 7n)).to.deep.equal([{ memberID: 7n, alarm: NOSPACE }]);
    expect(alarms.isRaised(NOSPACE)).to.equal(false);
  });

  it('takes member 0 with type NONE (etcd 3.4 panics storing it) and a type it does not know', () => {
    expect(apply(ACTIVATE, NONE, 0n)).to.deep.equal([{ memberID: 0n, alarm: NONE }]);
    expect(apply(ACTIVATE, 9 as AlarmType, 1n)).to.deep.equal([{ memberID: 1n, alarm: 9 }]);
    expect(apply(GET, NONE)).to.have.length(2);
  });

  it('an unknown action changes nothing and answers no alarms (etcd 3.4 panics)', () => {
    apply(ACTIVATE, NOSPACE, 3n);
    expect(apply(5 as AlarmRequest_AlarmAction, NOSPACE, 4n)).to.deep.equal([]);
    expect(apply(GET, NONE)).to.deep.equal([{ memberID: 3n, alarm: NOSPACE }]);
  });

  it('keeps the alarms in the backend: a restart, or a reload after a snapshot, finds them', async () => {
    apply(ACTIVATE, NOSPACE, 3n);
    apply(ACTIVATE, CORRUPT, 3n);
    apply(DEACTIVATE, CORRUPT, 3n);
    await temp.restart();
    alarms = new AlarmSet(temp.backend);
    expect(apply(GET, NONE)).to.deep.equal([{ memberID: 3n, alarm: NOSPACE }]);
    const other = new AlarmSet(temp.backend);
    apply(DEACTIVATE, NOSPACE, 3n);
    expect(other.isRaised(NOSPACE), 'not reloaded yet').to.equal(true);
    other.reload();
    expect(other.isRaised(NOSPACE)).to.equal(false);
  });

  it('describes an alarm as Go prints it (Status errors): decimal member ID, zero fields left out', () => {
    expect(describeAlarm({ memberID: 9372538179322589801n, alarm: NOSPACE })).to.equal('memberID:9372538179322589801 alarm:NOSPACE ');
    expect(describeAlarm({ memberID: 7n, alarm: NONE })).to.equal('memberID:7 ');
    expect(describeAlarm({ memberID: 0n, alarm: CORRUPT })).to.equal('alarm:CORRUPT ');
    expect(describeAlarm({ memberID: 1n, alarm: 9 as AlarmType })).to.equal('memberID:1 alarm:9 ');
  });
});
