"""Watches: watch and watch_prefix (event iterators, ended by cancel),
watch_response (whole responses, with their headers), start_revision (history
replayed), prev_kv, watch_once (an event, and a WatchTimedOut), and
add_watch_callback / cancel_watch (no callback after the cancel). The
client shares one gRPC stream between all its watches."""
import threading

import etcd3.etcdrpc as etcdrpc

# How long a step that waits for events may take before the session fails.
WAIT_SECONDS = 10
# watch_once's timeout when no event is coming.
QUIET_SECONDS = 0.3


def run(recorder, connection, options):
    client = recorder.client

    def take(iterator, cancel, count):
        """The first `count` items of a watch iterator, then cancel; cancel after WAIT_SECONDS at the latest."""
        deadline = threading.Timer(WAIT_SECONDS, cancel)
        deadline.start()
        taken = []
        try:
            for item in iterator:
                taken.append(item)
                if len(taken) == count:
                    break
        finally:
            deadline.cancel()
        cancel()
        # After cancel the iterator ends: nothing more comes out of it.
        rest = list(iterator)
        return taken, rest

    def write_history():
        client.put('w/a', '1')
        client.put('w/b', '1')
        client.put('w/a', '2')
        client.delete('w/a')
        client.transaction(compare=[], success=[client.transactions.put('w/a', '3'), client.transactions.put('w/b', '2')], failure=[])

    start = recorder.revision_now() + 1

    events, cancel = client.watch('w/a')
    write_history()
    taken, rest = take(events, cancel, 4)
    recorder['watch'] = [recorder.event(event) for event in taken]
    recorder['watch after cancel'] = [recorder.event(event) for event in rest]

    events, cancel = client.watch_prefix('w/', start_revision=start, prev_kv=True)
    taken, rest = take(events, cancel, 6)
    recorder['watch_prefix from the start, with prev_kv'] = [recorder.event(event) for event in taken]

    responses, cancel = client.watch_prefix_response('w/', start_revision=start)
    taken, rest = take(responses, cancel, 1)
    recorder['watch_prefix_response of the history'] = [recorder.watch_response(response) for response in taken]

    responses, cancel = client.watch_response('w/b')
    client.transaction(compare=[], success=[client.transactions.put('w/b', '3'), client.transactions.put('w/c', '1')], failure=[])
    client.put('w/b', '4')
    taken, rest = take(responses, cancel, 2)
    recorder['watch_response, live'] = [recorder.watch_response(response) for response in taken]

    recorder['watch_once of a past revision'] = recorder.outcome(lambda: client.watch_once('w/a', timeout=WAIT_SECONDS, start_revision=start), recorder.event)
    recorder['watch_once, nothing comes'] = recorder.outcome(lambda: client.watch_once('w/quiet', timeout=QUIET_SECONDS))
    writer = threading.Timer(0.2, lambda: client.put('w/once', 'o'))
    writer.start()
    recorder['watch_once, a put comes'] = recorder.outcome(lambda: client.watch_once('w/once', timeout=WAIT_SECONDS), recorder.event)
    writer.join()
    recorder['watch_prefix_once'] = recorder.outcome(lambda: client.watch_prefix_once('w/', timeout=WAIT_SECONDS, start_revision=start), recorder.event)

    called = []
    arrived = threading.Event()

    def callback(response):
        called.append(response)
        arrived.set()

    watch_id = client.add_watch_callback('w/cb', callback)
    client.put('w/cb', 'before')
    arrived.wait(WAIT_SECONDS)
    client.cancel_watch(watch_id)
    # The client sends the cancel, then this create, on the one stream: once the create is
    # answered the server has handled the cancel, and the put below comes after it.
    sentinel, cancel_sentinel = client.watch('w/sentinel')
    client.put('w/cb', 'after')
    client.put('w/sentinel', 's')
    taken, _ = take(sentinel, cancel_sentinel, 1)
    recorder['add_watch_callback'] = {
        'watch id': watch_id,
        'sentinel': [recorder.event(event) for event in taken],
        'callbacks': [recorder.watch_response(response) if not isinstance(response, Exception) else recorder.error(response) for response in called],
    }
    recorder['add_watch_prefix_callback then cancel_watch'] = recorder.outcome(lambda: client.cancel_watch(client.add_watch_prefix_callback('w/', callback)))
    recorder['cancel_watch of an unknown ID'] = recorder.outcome(lambda: client.cancel_watch(12345))
    # 0.12.0 assigns filters to a repeated field, which protobuf refuses.
    recorder['watch with filters'] = recorder.outcome(lambda: client.watch('w/a', filters=[etcdrpc.WatchCreateRequest.NOPUT]))
    recorder['watch of a future revision'] = watch_future(recorder, client, take)

    client.delete_prefix('w/')


def watch_future(recorder, client, take):
    """A watch from a revision not reached yet: the events come when it is."""
    future = recorder.revision_now() + 2
    events, cancel = client.watch('w/future', start_revision=future)
    client.put('w/future', '1')
    client.put('w/future', '2')
    client.put('w/future', '3')
    taken, _ = take(events, cancel, 2)
    return [recorder.event(event) for event in taken]
