// The alarms raised in the cluster, as etcd's v3alarm store: a set of
// (member ID, alarm type) pairs. It changes only by applying Alarm requests
// committed through the log, and lives in the backend (meta "alarms") in the
// same transaction as the log index that changed it, so it survives restarts
// and travels inside snapshots: every member holds the same set.
//
// As in etcd, the set takes whatever it is given: any member ID (known or
// not, 0 included) and any alarm type (NONE included).
import { silentLog, type Log } from '../log.js';
import { StoredAlarms } from '../../proto/gen/cairnpb/internal.js';
import { AlarmRequest_AlarmAction, AlarmType, type AlarmMember, type AlarmRequest, type AlarmResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { encodeMessage } from '../codec.js';
import type { Backend } from '../mvcc/backend.js';

const metaAlarms = 'alarms';

export class AlarmSet {
  /** In (alarm type, member ID) order, each pair once. */
  private alarms: AlarmMember[] = [];

  constructor(private readonly backend: Backend, private readonly log: Log = silentLog) {
    this.reload();
  }

  /** Reads the set the backend holds (after a restart or a snapshot). */
  reload(): void {
    const stored = this.backend.getMeta(metaAlarms);
    this.alarms = stored === undefined ? [] : StoredAlarms.decode(stored).alarms;
  }

  /**
   * The alarms of `type`, or every alarm for NONE, in (type, member ID)
   * order. (etcd lists them in Go map order, which varies from call to call.)
   */
  list(type: AlarmType): AlarmMember[] {
    return type === AlarmType.NONE ? [...this.alarms] : this.alarms.filter((alarm) => alarm.alarm === type);
  }

  /** Whether any member has raised `type`. */
  isRaised(type: AlarmType): boolean {
    return this.alarms.some((alarm) => alarm.alarm === type);
  }

  isRaisedBy(memberId: bigint, type: AlarmType): boolean {
    return this.find(memberId, type) !== undefined;
  }

  /**
   * Applies a committed Alarm request (inside the apply transaction). As
   * etcd 3.4: GET lists the alarms of the request's type (its member ID is
   * not looked at); ACTIVATE and DEACTIVATE answer the alarm they raised,
   * found raised, or cleared, and DEACTIVATE of an alarm not raised answers
   * none. The response has no header, as etcd 3.4's. An unknown action
   * changes nothing and answers no alarms (it crashes etcd 3.4).
   */
  apply(request: AlarmRequest): AlarmResponse {
    switch (request.action) {
      case AlarmRequest_AlarmAction.GET:
        return { header: undefined, alarms: this.list(request.alarm) };
      case AlarmRequest_AlarmAction.ACTIVATE:
        return { header: undefined, alarms: [this.activate(request.memberID, request.alarm)] };
      case AlarmRequest_AlarmAction.DEACTIVATE: {
        const cleared = this.deactivate(request.memberID, request.alarm);
        return { header: undefined, alarms: cleared === undefined ? [] : [cleared] };
      }
      default:
        return { header: undefined, alarms: [] };
    }
  }

  private activate(memberId: bigint, type: AlarmType): AlarmMember {
    const raised = this.find(memberId, type);
    if (raised !== undefined) return raised;
    const alarm: AlarmMember = { memberID: memberId, alarm: type };
    const at = this.alarms.findIndex((other) => compareAlarms(alarm, other) < 0);
    this.alarms.splice(at === -1 ? this.alarms.length : at, 0, alarm);
    this.save();
    this.log.warn(`alarm ${alarmName(type)} raised by member ${memberId.toString(16)}`);
    return alarm;
  }

  private deactivate(memberId: bigint, type: AlarmType): AlarmMember | undefined {
    const raised = this.find(memberId, type);
    if (raised === undefined) return undefined;
    this.alarms = this.alarms.filter((alarm) => alarm !== raised);
    this.save();
    this.log.info(`alarm ${alarmName(type)} of member ${memberId.toString(16)} disarmed`);
    return raised;
  }

  private find(memberId: bigint, type: AlarmType): AlarmMember | undefined {
    return this.alarms.find((alarm) => alarm.memberID === memberId && alarm.alarm === type);
  }

  private save(): void {
    this.backend.putMeta(metaAlarms, encodeMessage(StoredAlarms, { alarms: this.alarms }));
  }
}

function compareAlarms(a: AlarmMember, b: AlarmMember): number {
  if (a.alarm !== b.alarm) return a.alarm - b.alarm;
  return a.memberID < b.memberID ? -1 : a.memberID > b.memberID ? 1 : 0;
}

/** etcd's alarm type names (etcdserverpb.AlarmType). */
const alarmNames: Readonly<Record<number, string>> = { [AlarmType.NONE]: 'NONE', [AlarmType.NOSPACE]: 'NOSPACE', [AlarmType.CORRUPT]: 'CORRUPT' };

/** The type's name, or its number for a type etcd does not name (as Go prints an unknown enum value). */
export function alarmName(type: AlarmType): string {
  return alarmNames[type] ?? String(type);
}

/**
 * An alarm as etcd prints it (Go's compact protobuf text, fields at their
 * zero value left out): `memberID:9372538179322589801 alarm:NOSPACE ` (the ID in
 * decimal, a space after each field). etcdctl's `alarm list` and Status.errors show this text.
 */
export function describeAlarm(alarm: AlarmMember): string {
  const memberId = alarm.memberID === 0n ? '' : `memberID:${alarm.memberID} `;
  const type = alarm.alarm === AlarmType.NONE ? '' : `alarm:${alarmName(alarm.alarm)} `;
  return memberId + type;
}
