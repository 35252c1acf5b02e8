// Package all registers every destination type in destination.Default. The CLI imports it for
// its side effect; tests import only the destinations they need, or use their own Registry.
package all

import (
	_ "github.com/cdp-dev/cdp/internal/destination/braze"    // braze
	_ "github.com/cdp-dev/cdp/internal/destination/file"     // file
	_ "github.com/cdp-dev/cdp/internal/destination/hubspot"  // hubspot
	_ "github.com/cdp-dev/cdp/internal/destination/meta"     // meta
	_ "github.com/cdp-dev/cdp/internal/destination/postgres" // postgres
	_ "github.com/cdp-dev/cdp/internal/destination/webhook"  // webhook
)
