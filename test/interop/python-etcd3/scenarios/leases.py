"""Leases: lease() with and without a chosen ID, remaining_ttl, granted_ttl,
keys, refresh, revoke, put with a lease, the errors of a repeated ID, a TTL too
large and a revoked lease, and the expiry of a lease of the smallest TTL."""
import time

LEASE_TTL_SECONDS = 600
# Any ID the servers did not choose themselves.
CHOSEN_LEASE_ID = 0x5EED
# etcd's MaxLeaseTTL is 9,000,000,000 s.
TOO_LARGE_TTL_SECONDS = 9000000001
# A TTL below the server's minimum: the grant raises it (to 2 s on etcd with its default timings).
SHORT_TTL_SECONDS = 1
# How long the expiry of the short lease may take: its TTL, the leader's check (every 500 ms on
# etcd) and the revoke through the log.
EXPIRY_SECONDS_MAX = 8
POLL_SECONDS = 0.05


def run(recorder, connection, options):
    client = recorder.client

    def lease_info(lease):
        remaining = lease.remaining_ttl
        return {
            # Seconds pass while the session runs: a remaining TTL within 2 s of the granted one is named.
            'remaining_ttl': '<granted or up to 2 s less>' if lease.ttl - 2 <= remaining <= lease.ttl else remaining,
            'granted_ttl': lease.granted_ttl,
            'keys': sorted(key.decode() for key in lease.keys),
        }

    def refreshed(responses):
        return [{'header': recorder.header(r.header), 'ID': recorder.lease(r.ID), 'TTL': r.TTL} for r in responses]

    lease = client.lease(LEASE_TTL_SECONDS)
    recorder['lease'] = {'id': recorder.lease(lease.id), 'ttl': lease.ttl}
    chosen = client.lease(LEASE_TTL_SECONDS, lease_id=recorder.choose_lease_id(CHOSEN_LEASE_ID))
    recorder['lease with a chosen ID'] = {'id': recorder.lease(chosen.id), 'ttl': chosen.ttl}
    recorder['lease with that ID again'] = recorder.outcome(lambda: client.lease(LEASE_TTL_SECONDS, lease_id=CHOSEN_LEASE_ID))
    recorder['lease with a TTL too large'] = recorder.outcome(lambda: client.lease(TOO_LARGE_TTL_SECONDS))
    recorder['lease with TTL 0'] = recorder.outcome(lambda: client.lease(0), lambda granted: granted.ttl)

    recorder['put with the lease'] = [recorder.header(client.put(key, 'v', lease=lease).header) for key in ('l/a', 'l/b')]
    recorder['put with the chosen lease'] = recorder.header(client.put('l/c', 'v', lease=chosen.id).header)
    recorder['get with the lease'] = recorder.range(client.get_prefix('l/'))
    recorder['lease info'] = lease_info(lease)
    recorder['refresh'] = refreshed(lease.refresh())

    lease.revoke()
    recorder['get after revoke'] = recorder.range(client.get_prefix('l/'))
    recorder['lease info after revoke'] = lease_info(lease)
    recorder['refresh after revoke'] = refreshed(lease.refresh())
    recorder['revoke again'] = recorder.outcome(lease.revoke)
    recorder['put with the revoked lease'] = recorder.outcome(lambda: client.put('l/a', 'v', lease=lease))
    recorder['revoke the chosen lease'] = recorder.outcome(lambda: client.revoke_lease(CHOSEN_LEASE_ID))
    recorder['get after both revokes'] = recorder.range(client.get_prefix('l/'))

    short = client.lease(SHORT_TTL_SECONDS)
    recorder['short lease'] = {'id': recorder.lease(short.id), 'ttl': short.ttl, 'granted_ttl': short.granted_ttl}
    client.put('l/short', 'v', lease=short)
    before = recorder.revision_now()
    granted_at = time.monotonic()
    while client.get('l/short')[0] is not None and time.monotonic() - granted_at < EXPIRY_SECONDS_MAX:
        time.sleep(POLL_SECONDS)
    waited = time.monotonic() - granted_at
    recorder['short lease expiry'] = {
        'key gone': client.get('l/short')[0] is None,
        # Not before the TTL asked for: the lease lives at least that long.
        'after the TTL': waited >= SHORT_TTL_SECONDS,
        'revisions the expiry took': recorder.revision_now() - before,
        'remaining_ttl': short.remaining_ttl,
        'granted_ttl': short.granted_ttl,
        'keys': list(short.keys),
    }
