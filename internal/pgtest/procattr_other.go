//go:build unix && !linux

package pgtest

import "syscall"

// procAttr runs the server as cred (nil: the caller). Only Linux can tie the server's life to
// the test binary's; elsewhere a test binary that dies leaves its server running.
func procAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}
