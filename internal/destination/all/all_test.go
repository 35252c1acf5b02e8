package all

import (
	"strings"
	"testing"

	"github.com/cdp-dev/cdp/internal/destination"
)

func TestAllRegistered(t *testing.T) {
	if got := strings.Join(destination.Default.Names(), ","); got != "braze,file,hubspot,meta,postgres,webhook" {
		t.Errorf("registered: %s", got)
	}
}
