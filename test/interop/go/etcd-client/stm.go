package main

import (
	"flag"
	"fmt"
	"strconv"

	"go.etcd.io/etcd/clientv3/concurrency"
)

var isolations = map[string]concurrency.Isolation{
	"serializable-snapshot": concurrency.SerializableSnapshot,
	"serializable":          concurrency.Serializable,
	"repeatable-reads":      concurrency.RepeatableReads,
	"read-committed":        concurrency.ReadCommitted,
}

// runSTM increments the decimal counter in <key> <increments> times, each in
// its own concurrency.NewSTM transaction: read, add one, write. Under the
// first three isolation levels a conflicting commit fails its compares and the
// STM runs the function again, so concurrent processes lose no increment;
// read-committed commits without compares and may lose some.
//
// Prints "ready" once connected, waits for a line on stdin, then prints
// done {increments, attempts}: attempts counts runs of the function, so
// attempts - increments is the number of retried conflicts.
func runSTM(args []string) error {
	flags := flag.NewFlagSet("stm", flag.ContinueOnError)
	isolationName := flags.String("isolation", "serializable-snapshot", "serializable-snapshot, serializable, repeatable-reads or read-committed")
	positional, err := parseCommand(flags, args, "endpoints", "key", "increments")
	if err != nil {
		return err
	}
	isolation, known := isolations[*isolationName]
	if !known {
		return fmt.Errorf("unknown isolation %q", *isolationName)
	}
	key := positional[1]
	increments, err := strconv.Atoi(positional[2])
	if err != nil || increments < 0 {
		return fmt.Errorf("increments must be a count, got %q", positional[2])
	}
	client, err := connect(positional[0])
	if err != nil {
		return err
	}
	defer client.Close()
	emit("ready", fields{})
	if err := awaitStartLine(); err != nil {
		return err
	}

	attempts := 0
	increment := func(stm concurrency.STM) error {
		attempts++
		counter := 0
		if text := stm.Get(key); text != "" {
			parsed, err := strconv.Atoi(text)
			if err != nil {
				return fmt.Errorf("counter %s holds %q, not a number", key, text)
			}
			counter = parsed
		}
		stm.Put(key, strconv.Itoa(counter+1))
		return nil
	}
	for done := 0; done < increments; done++ {
		if _, err := concurrency.NewSTM(client, increment, concurrency.WithIsolation(isolation)); err != nil {
			return err
		}
	}
	emit("done", fields{"isolation": *isolationName, "increments": increments, "attempts": attempts})
	return nil
}
