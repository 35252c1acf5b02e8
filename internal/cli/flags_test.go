package cli

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Flag parsing is tested apart from behaviour: each command takes a runF that receives the
// parsed options.

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
		var got *LoadOptions
		cmd := NewCmdLoad(&App{}, func(_ context.Context, o *LoadOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if tc.wantErr {
			var u *usageError
			if !errors.As(err, &u) {
				t.Errorf("%v: want a usage error, got %v", tc.args, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.args, diff)
		}
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
		var got *SQLOptions
		cmd := NewCmdSQL(&App{JSON: tc.json}, func(_ context.Context, o *SQLOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if tc.wantErr {
			var u *usageError
			if !errors.As(err, &u) {
				t.Errorf("%v: want a usage error, got %v", tc.args, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.args, diff)
		}
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
