package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Main runs cdp with args and returns the process exit code. It is the only place errors become
// exit codes, so deferred cleanup (such as releasing the warehouse lock) always runs.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	app := &App{In: stdin, Out: stdout, Err: stderr}
	root := NewRootCmd(app)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var silent *silentError
	if errors.As(err, &silent) {
		return silent.code
	}
	fmt.Fprintln(stderr, "Error:", strings.TrimRight(err.Error(), "\n"))
	if isUsage(err) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", commandPath(root, args))
		return ExitUsage
	}
	return ExitFailure
}

// usageError marks an error in how cdp was called (bad flag, wrong number of arguments).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// silentError carries an exit code for a failure the command already reported (e.g. --json
// output that includes the error, or plan's --detailed-exitcode).
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func isUsage(err error) bool {
	var u *usageError
	if errors.As(err, &u) {
		return true
	}
	// cobra reports unknown commands and flags with plain errors.
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.HasPrefix(msg, "invalid argument") ||
		strings.Contains(msg, "flag needs an argument") || strings.HasPrefix(msg, "required flag")
}

func commandPath(root *cobra.Command, args []string) string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		return "cdp"
	}
	return cmd.CommandPath()
}
