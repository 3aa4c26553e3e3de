package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
)

const dialTimeout = 5 * time.Second

// connect opens a client on comma-separated endpoints, written as etcdctl takes
// them: host:port or with a scheme (http://host:port).
func connect(endpoints string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: strings.Split(endpoints, ","), DialTimeout: dialTimeout})
}

// connectWithSession connects and grants a session lease with ttlSeconds,
// kept alive until the session is closed.
func connectWithSession(endpoints string, ttlSeconds int) (*clientv3.Client, *concurrency.Session, error) {
	client, err := connect(endpoints)
	if err != nil {
		return nil, nil, err
	}
	session, err := concurrency.NewSession(client, concurrency.WithTTL(ttlSeconds))
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	emit("session", fields{"lease": hex(int64(session.Lease())), "ttlSeconds": ttlSeconds})
	return client, session, nil
}

// untilStopped is cancelled when stdin reaches its end (the test closed it)
// or on SIGINT / SIGTERM, so that a holder can release what it holds.
func untilStopped() (context.Context, context.CancelFunc) {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		io.Copy(ioutil.Discard, os.Stdin)
		cancel()
	}()
	return ctx, cancel
}

// awaitStartLine blocks until a line arrives on stdin: processes started one
// after another then begin their work together.
func awaitStartLine() error {
	_, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		return fmt.Errorf("waiting for the start line on stdin: %v", err)
	}
	return nil
}

// parseCommand parses flags, then checks that exactly the named positional arguments are present.
func parseCommand(flags *flag.FlagSet, args []string, names ...string) ([]string, error) {
	if err := flags.Parse(args); err != nil {
		return nil, err
	}
	positional := flags.Args()
	if len(positional) != len(names) {
		return nil, fmt.Errorf("%s takes <%s>, got %d arguments", flags.Name(), strings.Join(names, "> <"), len(positional))
	}
	return positional, nil
}
