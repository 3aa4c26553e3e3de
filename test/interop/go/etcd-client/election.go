package main

import (
	"context"
	"flag"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
)

// runElect campaigns in concurrency.Election <name> with <value> (keys
// <name>/<lease hex>, as `etcdctl elect` and cairn's Election recipe), leads
// until stdin closes or a signal comes, then resigns.
//
// Prints: session {lease}; elected {key, createRevision}; resigned. Stopped
// before it leads: "cancelled" (Campaign resigns by itself). Its session lost
// while it leads: "lost", exit 1.
func runElect(args []string) error {
	flags := flag.NewFlagSet("elect", flag.ContinueOnError)
	ttlSeconds := flags.Int("ttl", 60, "session lease TTL in seconds")
	positional, err := parseCommand(flags, args, "endpoints", "name", "value")
	if err != nil {
		return err
	}
	client, session, err := connectWithSession(positional[0], *ttlSeconds)
	if err != nil {
		return err
	}
	defer client.Close()
	defer session.Close()
	stopped, stop := untilStopped()
	defer stop()

	election := concurrency.NewElection(session, positional[1])
	if err := election.Campaign(stopped, positional[2]); err != nil {
		if stopped.Err() != nil {
			emit("cancelled", fields{})
			return nil
		}
		return err
	}
	emit("elected", fields{"key": election.Key(), "createRevision": decimal(election.Rev())})

	select {
	case <-stopped.Done():
	case <-session.Done():
		emit("lost", fields{"key": election.Key()})
		return errSessionLost
	}
	if err := election.Resign(context.Background()); err != nil {
		return err
	}
	emit("resigned", fields{"key": positional[1]})
	return nil
}

// runObserve prints every leader of <name> as Election.Observe reports it:
// each new leader and each value it proclaims, until stdin closes or a signal.
func runObserve(args []string) error {
	positional, err := parseCommand(flag.NewFlagSet("observe", flag.ContinueOnError), args, "endpoints", "name")
	if err != nil {
		return err
	}
	client, session, err := connectWithSession(positional[0], 60)
	if err != nil {
		return err
	}
	defer client.Close()
	defer session.Close()
	stopped, stop := untilStopped()
	defer stop()

	emit("observing", fields{})
	for response := range concurrency.NewElection(session, positional[1]).Observe(stopped) {
		emitLeader(response)
	}
	return nil
}

// runLeader prints the current leader of <name> once, or "no-leader".
func runLeader(args []string) error {
	positional, err := parseCommand(flag.NewFlagSet("leader", flag.ContinueOnError), args, "endpoints", "name")
	if err != nil {
		return err
	}
	client, session, err := connectWithSession(positional[0], 60)
	if err != nil {
		return err
	}
	defer client.Close()
	defer session.Close()

	response, err := concurrency.NewElection(session, positional[1]).Leader(context.Background())
	if err == concurrency.ErrElectionNoLeader {
		emit("no-leader", fields{})
		return nil
	}
	if err != nil {
		return err
	}
	emitLeader(*response)
	return nil
}

func emitLeader(response clientv3.GetResponse) {
	for _, kv := range response.Kvs {
		emit("leader", fields{"key": string(kv.Key), "value": string(kv.Value), "createRevision": decimal(kv.CreateRevision)})
	}
}
