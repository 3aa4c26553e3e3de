package main

import (
	"context"
	"flag"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
)

const maintenanceCallTimeout = 5 * time.Second

// runMaintenance makes clientv3.Maintenance's per-endpoint calls on every
// endpoint, in turn: Status, HashKV (at the current revision) and Defragment.
// Each dials its endpoint alone, written as given: with an http:// endpoint the
// gRPC target is passthrough:///http://host:port, and the calls' :authority
// keeps the scheme, as etcdctl's `endpoint status` / `defrag` send it.
//
// Prints one line per call: status {endpoint, version, leader, raftTerm,
// raftIndex}, hashkv {endpoint, hash, compactRevision, headerRevision},
// defragment {endpoint}, or failed {call, endpoint, message}; exits 1 if any
// call failed.
func runMaintenance(args []string) error {
	positional, err := parseCommand(flag.NewFlagSet("maintenance", flag.ContinueOnError), args, "endpoints")
	if err != nil {
		return err
	}
	client, err := connect(positional[0])
	if err != nil {
		return err
	}
	defer client.Close()

	failures := 0
	for _, endpoint := range strings.Split(positional[0], ",") {
		for _, call := range maintenanceCalls {
			ctx, cancel := context.WithTimeout(context.Background(), maintenanceCallTimeout)
			values, err := call.run(ctx, client, endpoint)
			cancel()
			if err != nil {
				failures++
				emit("failed", fields{"call": call.name, "endpoint": endpoint, "message": err.Error()})
				continue
			}
			values["endpoint"] = endpoint
			emit(call.name, values)
		}
	}
	if failures > 0 {
		return errMaintenanceFailed
	}
	return nil
}

type maintenanceCall struct {
	name string
	run  func(ctx context.Context, client *clientv3.Client, endpoint string) (fields, error)
}

var maintenanceCalls = []maintenanceCall{
	{"status", func(ctx context.Context, client *clientv3.Client, endpoint string) (fields, error) {
		status, err := client.Status(ctx, endpoint)
		if err != nil {
			return nil, err
		}
		return fields{
			"version":   status.Version,
			"leader":    unsignedDecimal(status.Leader),
			"memberId":  unsignedDecimal(status.Header.MemberId),
			"raftTerm":  unsignedDecimal(status.RaftTerm),
			"raftIndex": unsignedDecimal(status.RaftIndex),
		}, nil
	}},
	{"hashkv", func(ctx context.Context, client *clientv3.Client, endpoint string) (fields, error) {
		hash, err := client.HashKV(ctx, endpoint, 0)
		if err != nil {
			return nil, err
		}
		return fields{
			"hash":            unsignedDecimal(uint64(hash.Hash)),
			"compactRevision": decimal(hash.CompactRevision),
			"headerRevision":  decimal(hash.Header.Revision),
		}, nil
	}},
	{"defragment", func(ctx context.Context, client *clientv3.Client, endpoint string) (fields, error) {
		if _, err := client.Defragment(ctx, endpoint); err != nil {
			return nil, err
		}
		return fields{}, nil
	}},
}
