"""Locks: the client's own recipe (a lease and a transaction on /locks/NAME):
acquire, is_acquired, refresh, release, a second lock that times out, that
gets the lock once the first is released or once the first's lease expired,
and the lock as a context manager.

0.12.0 waits between attempts with a tenacity `wait` function of the old
signature (previous_attempt_number, delay_since_first_attempt); bookworm's
python3-tenacity (8.2) calls it with one argument, so an acquire whose first
attempt fails raises TypeError instead of waiting, whenever time remains
before its timeout. The scenario records that, and otherwise gives acquire
timeout=0 (tenacity checks the stop before the wait: one attempt, True or
False). To wait for a lock it does what the recipe does between attempts:
watch_once on the lock's key until the holder's key changes.
"""
import time

LOCK_TTL_SECONDS = 60
# A TTL below the server's minimum: the grant raises it (to 2 s on etcd with its default timings).
SHORT_TTL_SECONDS = 1
# How long a waiting lock may wait: the short lock's TTL and its expiry, with room.
WAIT_SECONDS = 10


def run(recorder, connection, options):
    client = recorder.client

    def holder(lock):
        """What /locks/NAME holds, as `lock` sees it: whether it is its own UUID, the lease, the version."""
        value, metadata = client.get(lock.key)
        if value is None:
            return None
        return {'value is this lock': value == lock.uuid, 'lease': recorder.lease(metadata.lease_id), 'version': metadata.version}

    first = client.lock('one', ttl=LOCK_TTL_SECONDS)
    recorder['refresh before acquire'] = recorder.outcome(first.refresh)
    recorder['is_acquired before acquire'] = first.is_acquired()
    recorder['acquire'] = first.acquire()
    recorder['key'] = first.key
    recorder['holder'] = holder(first)
    recorder['is_acquired'] = first.is_acquired()
    recorder['refresh'] = [{'ID': recorder.lease(r.ID), 'TTL': r.TTL} for r in first.refresh()]

    second = client.lock('one', ttl=LOCK_TTL_SECONDS)
    recorder['second acquire while held, timeout 0'] = second.acquire(timeout=0)
    recorder['second acquire while held, waiting'] = recorder.outcome(lambda: second.acquire(timeout=WAIT_SECONDS))
    recorder['second is_acquired'] = second.is_acquired()
    recorder['second release while not holding'] = second.release()
    recorder['holder after the second gave up'] = holder(first)

    recorder['release'] = first.release()
    recorder['is_acquired after release'] = first.is_acquired()
    recorder['release again'] = first.release()
    recorder['second acquire after the release'] = second.acquire(timeout=0)
    recorder['second is_acquired after acquire'] = second.is_acquired()
    recorder['holder: the second'] = holder(second)
    recorder['second release'] = second.release()
    recorder['holder after both released'] = holder(second)

    with client.lock('two', ttl=LOCK_TTL_SECONDS) as inside:
        recorder['context manager: inside'] = {'is_acquired': inside.is_acquired(), 'holder': holder(inside)}
    recorder['context manager: after'] = {'is_acquired': inside.is_acquired(), 'holder': holder(inside)}

    expiring = client.lock('three', ttl=SHORT_TTL_SECONDS)
    recorder['short lock acquire'] = expiring.acquire()
    recorder['short lock lease TTL'] = expiring.lease.granted_ttl
    waiting = client.lock('three', ttl=LOCK_TTL_SECONDS)
    recorder['waiting lock acquire while held'] = waiting.acquire(timeout=0)
    started = time.monotonic()
    recorder['the short lock key changes'] = recorder.outcome(lambda: client.watch_once(waiting.key, timeout=WAIT_SECONDS), recorder.event)
    recorder['waited at least the short TTL'] = time.monotonic() - started >= SHORT_TTL_SECONDS
    recorder['waiting lock acquire after the expiry'] = waiting.acquire(timeout=0)
    recorder['short lock is_acquired after expiry'] = expiring.is_acquired()
    recorder['short lock release after expiry'] = expiring.release()
    recorder['holder after expiry'] = holder(waiting)
    waiting.release()

    # Release leaves the lease; the short lock's expired by itself.
    for lock in (first, second, inside, waiting):
        lock.lease.revoke()
