"""Compaction: compact (logical and physical), compacting again, below or
past the store's revision, and watching from a compacted revision through the
iterator, watch_once and a callback (the client raises or hands over
RevisionCompactedError with the compaction's revision). Reading a compacted
revision is not possible with this client: get() has no `revision`, and
get_prefix() and get_range() take one but 0.12.0 never puts it in the
request, so they read the latest value (recorded)."""
import threading

WAIT_SECONDS = 10


def run(recorder, connection, options):
    client = recorder.client

    first = client.put('c/k', 'v1').header.revision
    second = client.put('c/k', 'v2').header.revision
    third = client.put('c/k', 'v3').header.revision
    recorder['revisions'] = [recorder.revision(r) for r in (first, second, third)]

    recorder['compact'] = recorder.outcome(lambda: client.compact(second))
    recorder['compact the same revision'] = recorder.outcome(lambda: client.compact(second))
    recorder['compact an older revision'] = recorder.outcome(lambda: client.compact(first))
    recorder['compact revision 0'] = recorder.outcome(lambda: client.compact(0))
    recorder['compact a future revision'] = recorder.outcome(lambda: client.compact(third + 10))
    recorder['compact physical'] = recorder.outcome(lambda: client.compact(third, physical=True))
    recorder['get at a compacted revision'] = recorder.outcome(lambda: client.get('c/k', revision=first))
    recorder['get_prefix at a compacted revision'] = recorder.range(client.get_prefix('c/k', revision=first))

    def watch_from(revision):
        events, cancel = client.watch('c/k', start_revision=revision)
        deadline = threading.Timer(WAIT_SECONDS, cancel)
        deadline.start()
        seen = []
        try:
            for event in events:
                seen.append(recorder.event(event))
                break
        except Exception as error:
            seen.append(recorder.error(error))
        finally:
            deadline.cancel()
            cancel()
        return seen

    recorder['watch from a compacted revision'] = watch_from(first)
    recorder['watch from the compaction revision'] = watch_from(third)
    recorder['watch_once from a compacted revision'] = recorder.outcome(lambda: client.watch_once('c/k', timeout=WAIT_SECONDS, start_revision=second), recorder.event)

    called = []
    arrived = threading.Event()

    def callback(response):
        called.append(response)
        arrived.set()

    recorder['add_watch_callback from a compacted revision'] = recorder.outcome(lambda: client.add_watch_callback('c/k', callback, start_revision=first) is not None)
    arrived.wait(WAIT_SECONDS)
    recorder['its callbacks'] = [recorder.error(response) if isinstance(response, Exception) else recorder.watch_response(response) for response in called]

    client.delete_prefix('c/')
