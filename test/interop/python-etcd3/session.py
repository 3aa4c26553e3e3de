"""One area of python-etcd3's public API (Debian's python3-etcd3, 0.12.0),
exercised against the server at HOST:PORT and printed as one JSON object:
{"base": the store's revision when the session started, "results": what each
step returned or raised, normalised as record.py says}. The mocha test runs
the same area against etcd and against cairn and compares the results whole.

Usage: python3 session.py AREA HOST:PORT [--ca-cert FILE] [--user NAME --password PASSWORD] [--snapshot FILE]

Bookworm's python3-protobuf (3.21, C++ implementation) imports the package's
old generated modules as they are: no PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION
is needed, and none is set.
"""
import argparse
import importlib
import json

import etcd3

from record import Recorder

AREAS = ('keys', 'transactions', 'leases', 'watches', 'locks', 'compaction', 'maintenance', 'alarms', 'auth')


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument('area', choices=AREAS)
    parser.add_argument('endpoint', help='HOST:PORT')
    parser.add_argument('--ca-cert', help='connect over TLS, trusting this CA')
    parser.add_argument('--user')
    parser.add_argument('--password')
    parser.add_argument('--snapshot', help='maintenance: the file client.snapshot() writes')
    return parser.parse_args()


def main():
    args = arguments()
    host, port = args.endpoint.rsplit(':', 1)
    connection = {'host': host, 'port': int(port), 'ca_cert': args.ca_cert}
    scenario = importlib.import_module('scenarios.' + args.area)
    client = etcd3.client(**connection, user=args.user, password=args.password)
    recorder = Recorder(client)
    scenario.run(recorder, connection=connection, options=args)
    # The client is not closed: its watch thread would then try to open a new stream on the
    # closed channel and print a traceback. The process ends, and the connection with it.
    print(json.dumps({'base': recorder.base, 'results': recorder.results}, indent=1))


if __name__ == '__main__':
    main()
