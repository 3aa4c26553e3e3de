// etcd-client runs etcd's own Go client (clientv3 and its concurrency package,
// etcd 3.4) from the command line, so that process-level tests can drive it
// against cairn and against etcd and read what it did.
//
//	etcd-client mutex       [--ttl S] <endpoints> <name> <hold-ms>
//	etcd-client elect       [--ttl S] <endpoints> <name> <value>
//	etcd-client observe     <endpoints> <name>
//	etcd-client leader      <endpoints> <name>
//	etcd-client stm         [--isolation L] <endpoints> <key> <increments>
//	etcd-client maintenance <endpoints>
//
// <endpoints> is comma-separated, as etcdctl's --endpoints. Every line on
// stdout is one JSON object with an "event" field; revisions and lease IDs
// are written as strings, since they are 64-bit. A failure prints an "error"
// event and exits 1.
package main

import (
	"fmt"
	"os"
)

const usage = `usage:
  etcd-client mutex       [--ttl S] <endpoints> <name> <hold-ms>   (hold-ms < 0: until stdin closes or SIGTERM)
  etcd-client elect       [--ttl S] <endpoints> <name> <value>     (resigns when stdin closes or on SIGTERM)
  etcd-client observe     <endpoints> <name>                       (until stdin closes or SIGTERM)
  etcd-client leader      <endpoints> <name>
  etcd-client stm         [--isolation L] <endpoints> <key> <increments>
                          (prints "ready", starts on a line on stdin; L: serializable-snapshot, serializable, repeatable-reads, read-committed)
  etcd-client maintenance <endpoints>                              (Status, HashKV and Defragment of each endpoint)`

var commands = map[string]func(args []string) error{
	"mutex":       runMutex,
	"elect":       runElect,
	"observe":     runObserve,
	"leader":      runLeader,
	"stm":         runSTM,
	"maintenance": runMaintenance,
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	command, found := commands[os.Args[1]]
	if !found {
		fmt.Fprintf(os.Stderr, "unknown command %q\n%s\n", os.Args[1], usage)
		os.Exit(2)
	}
	if err := command(os.Args[2:]); err != nil {
		emit("error", fields{"message": err.Error()})
		os.Exit(1)
	}
}
