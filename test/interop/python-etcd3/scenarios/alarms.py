"""Alarms, on servers started with --quota-backend-bytes 1 MiB: create_alarm
(NOSPACE for member 0, by hand), list_alarms, a member's active_alarms,
disarm_alarm, the writes refused meanwhile; then the quota filled for real
(test/compat/quota.ts says why one value of 600 KiB, and why the wait for the
reported size), the alarm the server raises itself, and the way back: delete,
compact, defragment, disarm.

The member ID of an alarm the server raised is recorded as whether it is the
server's own (IDs are random)."""
import time

BIG_VALUE_BYTES = 600 * 1024
SIZE_WAIT_SECONDS = 5
POLL_SECONDS = 0.05


def run(recorder, connection, options):
    client = recorder.client
    member_id = client.status().leader.id

    def alarms(listed):
        return sorted(({'alarm_type': alarm.alarm_type, 'member_id': 'this member' if alarm.member_id == member_id else alarm.member_id} for alarm in listed), key=repr)

    recorder['list_alarms'] = alarms(client.list_alarms())
    recorder['create_alarm'] = recorder.outcome(client.create_alarm, alarms)
    recorder['list_alarms after create'] = alarms(client.list_alarms())
    recorder['list_alarms of no space'] = alarms(client.list_alarms(alarm_type='no space'))
    recorder['active_alarms of the member'] = [alarms(member.active_alarms) for member in client.members]
    recorder['put while raised'] = recorder.outcome(lambda: client.put('a/small', 'v'))
    recorder['delete while raised'] = recorder.outcome(lambda: client.delete('a/small'))
    recorder['get while raised'] = recorder.value_and_metadata(*client.get('a/small'))
    recorder['disarm_alarm'] = recorder.outcome(client.disarm_alarm, alarms)
    recorder['list_alarms after disarm'] = alarms(client.list_alarms())
    recorder['put after disarm'] = recorder.outcome(lambda: client.put('a/small', 'v'), lambda response: recorder.header(response.header))

    recorder['put a big value'] = recorder.outcome(lambda: client.put('a/big', 'v' * BIG_VALUE_BYTES), lambda response: recorder.header(response.header))
    recorder['reported size covers it'] = wait_size(client, BIG_VALUE_BYTES)
    recorder['put a big value again'] = recorder.outcome(lambda: client.put('a/big2', 'v' * BIG_VALUE_BYTES))
    recorder['list_alarms when full'] = alarms(client.list_alarms())
    recorder['put a small value when full'] = recorder.outcome(lambda: client.put('a/small', 'w'))

    recorder['delete the big value'] = recorder.outcome(lambda: client.delete('a/big'))
    recorder['compact'] = recorder.outcome(lambda: client.compact(recorder.revision_now(), physical=True))
    recorder['defragment'] = recorder.outcome(client.defragment)
    recorder['disarm_alarm of this member'] = recorder.outcome(lambda: client.disarm_alarm(member_id), alarms)
    recorder['list_alarms at the end'] = alarms(client.list_alarms())
    recorder['put at the end'] = recorder.outcome(lambda: client.put('a/small', 'x'), lambda response: recorder.header(response.header))
    client.delete_prefix('a/')


def wait_size(client, bytes_min):
    """Waits until the server reports a db size of at least `bytes_min` (etcd measures itself when it commits, every 100 ms)."""
    deadline = time.monotonic() + SIZE_WAIT_SECONDS
    while client.status().db_size < bytes_min:
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True
