package cli

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// Flag parsing is tested apart from behaviour: each command takes a runF that receives the
// parsed options.

// checkFlags runs the command newCmd makes on args and compares the options its runF received
// with want, or, with wantErr, checks that args were refused as a usage error.
func checkFlags[O any](t *testing.T, args []string, want *O, wantErr bool, newCmd func(runF func(context.Context, *O) error) *cobra.Command) {
	t.Helper()
	var got *O
	cmd := newCmd(func(_ context.Context, o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	if wantErr {
		var u *usageError
		if !errors.As(err, &u) {
			t.Errorf("%v: want a usage error, got %v", args, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%v (-want +got):\n%s", args, diff)
	}
}

func TestLoadFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    *LoadOptions
		wantErr bool
	}{
		{args: []string{"events", "a.ndjson", "dir/"}, want: &LoadOptions{Source: "events", Paths: []string{"a.ndjson", "dir/"}}},
		{args: []string{"events"}, wantErr: true},
		{args: []string{}, wantErr: true},
	} {
		checkFlags(t, tc.args, tc.want, tc.wantErr, func(runF func(context.Context, *LoadOptions) error) *cobra.Command {
			return NewCmdLoad(&App{}, runF)
		})
	}
}

func TestSQLFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		json    bool
		want    *SQLOptions
		wantErr bool
	}{
		{args: []string{"select 1"}, want: &SQLOptions{Query: "select 1", Format: "table", Limit: 1000}},
		{args: []string{"select 1", "--format", "csv"}, want: &SQLOptions{Query: "select 1", Format: "csv", Limit: 1000}},
		{args: []string{"select 1", "-f", "json", "--limit", "5"}, want: &SQLOptions{Query: "select 1", Format: "json", Limit: 5}},
		{args: []string{"select 1"}, json: true, want: &SQLOptions{Query: "select 1", Format: "json", Limit: 1000}},
		{args: []string{"select 1", "--format", "csv"}, json: true, wantErr: true},
		{args: []string{"select 1", "--format", "xml"}, wantErr: true},
		{args: []string{"select 1", "select 2"}, wantErr: true},
	} {
		checkFlags(t, tc.args, tc.want, tc.wantErr, func(runF func(context.Context, *SQLOptions) error) *cobra.Command {
			return NewCmdSQL(&App{JSON: tc.json}, runF)
		})
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"version"}, ExitOK},
		{[]string{"nosuch"}, ExitUsage},
		{[]string{"version", "--nosuch"}, ExitUsage},
		{[]string{"sql"}, ExitUsage},
		{[]string{"--project-dir", t.TempDir(), "sql", "select 1"}, ExitFailure},
	} {
		var out, errOut bytes.Buffer
		if got := Main(context.Background(), tc.args, nil, &out, &errOut); got != tc.want {
			t.Errorf("cdp %v exited %d, want %d (stderr: %s)", tc.args, got, tc.want, errOut.String())
		}
	}
}
