package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"go.etcd.io/etcd/clientv3/concurrency"
)

// runMutex locks concurrency.Mutex <name> (keys <name>/<lease hex>, as
// `etcdctl lock` and cairn's Mutex recipe), holds it, and unlocks it.
//
// Prints: session {lease}; acquired {key, createRevision (the fencing token),
// headerRevision (of the answer that granted it), atMs}; releasing {atMs},
// just before Unlock; released. Times are Unix milliseconds. Stopped while
// waiting, Lock deletes its key and the command prints "cancelled".
func runMutex(args []string) error {
	flags := flag.NewFlagSet("mutex", flag.ContinueOnError)
	ttlSeconds := flags.Int("ttl", 60, "session lease TTL in seconds")
	positional, err := parseCommand(flags, args, "endpoints", "name", "hold-ms")
	if err != nil {
		return err
	}
	holdMs, err := strconv.Atoi(positional[2])
	if err != nil {
		return fmt.Errorf("hold-ms must be an integer: %v", err)
	}
	client, session, err := connectWithSession(positional[0], *ttlSeconds)
	if err != nil {
		return err
	}
	defer client.Close()
	defer session.Close()
	stopped, stop := untilStopped()
	defer stop()

	mutex := concurrency.NewMutex(session, positional[1])
	if err := mutex.Lock(stopped); err != nil {
		if stopped.Err() != nil {
			emit("cancelled", fields{"key": mutex.Key()})
			return nil
		}
		return err
	}
	// Lock does not return the key's create revision; IsOwner compares against it.
	mine, err := client.Get(context.Background(), mutex.Key())
	if err != nil {
		return err
	}
	if len(mine.Kvs) != 1 {
		return fmt.Errorf("lock key %s is gone right after Lock returned", mutex.Key())
	}
	emit("acquired", fields{
		"key":            mutex.Key(),
		"createRevision": decimal(mine.Kvs[0].CreateRevision),
		"headerRevision": decimal(mutex.Header().Revision),
		"atMs":           time.Now().UnixMilli(),
	})

	if holdMs >= 0 {
		select {
		case <-time.After(time.Duration(holdMs) * time.Millisecond):
		case <-stopped.Done():
		}
	} else {
		<-stopped.Done()
	}
	// The last moment it holds the lock: the next holder can acquire only after this.
	emit("releasing", fields{"key": mutex.Key(), "atMs": time.Now().UnixMilli()})
	if err := mutex.Unlock(context.Background()); err != nil {
		return err
	}
	emit("released", fields{"key": positional[1]})
	return nil
}
