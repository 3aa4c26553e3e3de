package main

import (
	"encoding/json"
	"os"
	"strconv"
	"sync"
)

type fields map[string]interface{}

// Observe's goroutine and the main one may both print.
var stdoutLock sync.Mutex

// emit prints one JSON line: {"event": event, ...fields}.
func emit(event string, values fields) {
	line := fields{"event": event}
	for name, value := range values {
		line[name] = value
	}
	encoded, err := json.Marshal(line)
	if err != nil {
		panic(err)
	}
	stdoutLock.Lock()
	defer stdoutLock.Unlock()
	os.Stdout.Write(append(encoded, '\n'))
}

// decimal writes a 64-bit figure as a string, so that a reader in JavaScript loses no digit.
func decimal(value int64) string { return strconv.FormatInt(value, 10) }

func unsignedDecimal(value uint64) string { return strconv.FormatUint(value, 10) }

// hex writes a lease or member ID as etcd's keys and etcdctl do.
func hex(value int64) string { return strconv.FormatInt(value, 16) }
