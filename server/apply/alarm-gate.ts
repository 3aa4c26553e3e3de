// What applying refuses while alarms are raised, as etcd's capped applier
// (NOSPACE) and corrupt applier (CORRUPT). The decision reads only the
// replicated alarm set, so every member refuses the same entries.
//
// - NOSPACE anywhere in the cluster: writes that add data are refused (puts,
//   txns that may put, lease grants); deletes, compactions and lease revokes
//   go on, so an operator can make room.
// - CORRUPT anywhere: every write is refused. Reads are served outside the
//   log and go on; so do read-only txns, which etcd serves outside the log
//   (a txn whose top-level ops are all ranges).
//
// etcd swaps its applier on each raise and disarm, so with both alarms its
// behaviour depends on their order (disarming CORRUPT lifts NOSPACE's cap
// too). Here the rule follows the set: CORRUPT first, then NOSPACE.
import type { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import { AlarmType, type TxnRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { CorruptError, NoSpaceError } from '../alarm/errors.js';
import { costBytes } from '../alarm/quota.js';

/** Which alarms are raised. */
export interface RaisedAlarms {
  isRaised(type: AlarmType): boolean;
}

/** The error applying `request` must fail with under the raised alarms, if any. */
export function alarmRefusal(request: InternalRequest, alarms: RaisedAlarms): Error | undefined {
  if (alarms.isRaised(AlarmType.CORRUPT) && isWrite(request)) return new CorruptError();
  if (alarms.isRaised(AlarmType.NOSPACE) && costBytes(request) > 0) return new NoSpaceError();
  return undefined;
}

/** What etcd's corrupt applier refuses: every request that goes through its log but a read-only txn and the Alarm itself. */
function isWrite(request: InternalRequest): boolean {
  if (request.txn !== undefined) return !isReadOnly(request.txn);
  return (
    request.put !== undefined ||
    request.deleteRange !== undefined ||
    request.compaction !== undefined ||
    request.leaseGrant !== undefined ||
    request.leaseRevoke !== undefined
  );
}

function isReadOnly(txn: TxnRequest): boolean {
  return [...txn.success, ...txn.failure].every((op) => op.requestRange !== undefined);
}
