package main

import "errors"

var errSessionLost = errors.New("session lost: its lease expired or was revoked")

var errMaintenanceFailed = errors.New("a maintenance call failed")
