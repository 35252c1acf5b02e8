package pgtest

import "syscall"

// procAttr runs the server as cred (nil: the caller) and kills it when the test binary dies
// without stopping it (a test timeout's panic), so no server outlives its tests.
func procAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
}
