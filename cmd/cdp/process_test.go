package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Helpers for the tests that run cdp as real processes: testscript.Main (see TestMain) has put a
// copy of the test binary on $PATH under the name "cdp", and running it runs cli.Main.

// cdpResult is what one finished cdp process printed and how it exited.
type cdpResult struct {
	stdout, stderr string
	code           int
}

// cdpCommand returns an unstarted cdp process running in dir.
func cdpCommand(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("cdp")
	if err != nil {
		t.Fatalf("cdp is not on $PATH (TestMain should have put it there): %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	return cmd
}

// runCdp runs cdp in dir to completion.
func runCdp(t *testing.T, dir string, args ...string) cdpResult {
	t.Helper()
	cmd := cdpCommand(t, dir, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := cdpResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("cdp %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustCdp runs cdp in dir and fails the test unless it exits 0.
func mustCdp(t *testing.T, dir string, args ...string) string {
	t.Helper()
	res := runCdp(t, dir, args...)
	if res.code != 0 {
		t.Fatalf("cdp %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

// newProject runs cdp init in a fresh temporary directory and returns the project's path.
func newProject(t *testing.T, name string) string {
	t.Helper()
	parent := t.TempDir()
	mustCdp(t, parent, "init", name, "--quiet")
	return filepath.Join(parent, name)
}
