package cli

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X github.com/cdp-dev/cdp/internal/cli.version=v1.2.3".
var version = ""

// Version returns cdp's version: the linker-set one, else the module version, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func NewCmdVersion(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print cdp's version",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			info := map[string]string{"version": Version(), "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH}
			if app.JSON {
				return app.PrintJSON(info)
			}
			app.Human("cdp %s (%s %s/%s)\n", info["version"], info["go"], info["os"], info["arch"])
			return nil
		},
	}
}
