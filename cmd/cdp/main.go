// Command cdp is a warehouse-first customer data platform: load events, run SQL models that build
// an identity graph, profiles and audiences, and sync audiences to the tools that act on them.
package main

import (
	"context"
	"os"

	"github.com/cdp-dev/cdp/internal/cli"
)

func main() { os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
