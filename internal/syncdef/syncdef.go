package syncdef

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
)

// Mode says which changes a sync sends.
type Mode string

const (
	// Mirror sends adds, changes and removes: the destination holds exactly the model's rows.
	Mirror Mode = "mirror"
	// Upsert sends adds and changes; rows that leave the model stay in the destination.
	Upsert Mode = "upsert"
	// Insert sends adds only: each key once, never updated.
	Insert Mode = "insert"
	// Audience sends membership: adds, changes (new fields of a member) and removes.
	Audience Mode = "audience"
)

// Modes lists every mode.
var Modes = []Mode{Mirror, Upsert, Insert, Audience}

// SendsChanges reports whether rows whose mapped fields changed are sent again.
func (m Mode) SendsChanges() bool { return m == Mirror || m == Upsert || m == Audience }

// SendsRemoves reports whether rows that leave the model are removed from the destination.
// Whatever the mode, a row whose consent was withdrawn is removed.
func (m Mode) SendsRemoves() bool { return m == Mirror || m == Audience }

// Def is one sync: a model's rows sent to a destination.
type Def struct {
	Name string // [a-z][a-z0-9_]*, unique in the project
	// Model is the model's name, or schema.name; the caller resolves a bare name against the
	// target's schema.
	Model       string
	PrimaryKey  string // the model column that identifies a row
	Mode        Mode
	Mapping     []Field // sorted by destination field name
	Destination Destination
	BatchSize   int    // most rows per Write; 0 = the destination's limit
	Schedule    string // standard 5-field cron expression or @descriptor; "" = run on demand
	// Consent is a purpose: only rows whose consent_<purpose> column is true are sent, and a
	// row sent before that loses it is removed.
	Consent     string
	Guards      Guards
	Description string
	Pos         config.Pos // where the sync's entry starts
}

// ConsentColumn is the model column that holds the consent of the sync's purpose, "" if none.
func (d *Def) ConsentColumn() string {
	if d.Consent == "" {
		return ""
	}
	return "consent_" + d.Consent
}

// Field maps one destination field to a model column or a constant.
type Field struct {
	Name   string // destination field
	Column string // model column; "" when the field is a constant
	// Const is the constant's value when Column is "": string, int, float64, bool or nil.
	Const any
	Pos   config.Pos
}

// Guards stop a sync from applying a plan that looks like a broken model.
type Guards struct {
	// MaxRemoveShare refuses a plan whose removes exceed this share of the snapshot (0.2 =
	// 20%); nil = no limit.
	MaxRemoveShare *float64
	// MaxAddShare refuses a plan whose adds exceed this share of the snapshot; nil = no limit.
	MaxAddShare *float64
	// AllowEmpty lets a sync apply when the model has no rows to send but the snapshot is not
	// empty, which would remove everything sent before. Default false.
	AllowEmpty bool
	Pos        config.Pos
}

// Destination is a sync's destination as written: its type and the rest of its keys.
type Destination struct {
	Type string
	// Config is every key but type, with ${VAR} references unexpanded; Expand resolves them.
	Config map[string]any
	Pos    config.Pos
	// KeyPos is where each config key is written, for errors found when expanding.
	KeyPos map[string]config.Pos
}

// Expand returns the destination's config with ${VAR} and ${VAR:-default} replaced from
// lookup, or an error at the key's file:line naming the variable to set.
func (d Destination) Expand(lookup func(string) (string, bool)) (map[string]any, error) {
	out := make(map[string]any, len(d.Config))
	var errs config.Errors
	for k, v := range d.Config {
		x, err := expandValue(v, lookup)
		if err != nil {
			errs = append(errs, &config.Error{Pos: d.KeyPos[k], Msg: fmt.Sprintf("destination.%s: %v", k, err)})
			continue
		}
		out[k] = x
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return out, nil
}

func expandValue(v any, lookup func(string) (string, bool)) (any, error) {
	switch x := v.(type) {
	case string:
		return config.ExpandEnv(x, lookup)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			e, err := expandValue(item, lookup)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			e, err := expandValue(item, lookup)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	}
	return v, nil
}

// envRef matches a value that is exactly one ${VAR} reference: how secrets must be written.
var envRef = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\}$`)

// looksSecret guesses whether a config key holds a secret, for destinations whose Spec is not
// known.
func looksSecret(key string) bool {
	k := strings.ToLower(key)
	return slices.ContainsFunc([]string{"secret", "token", "password", "api_key", "apikey", "private_key"},
		func(s string) bool { return strings.Contains(k, s) })
}

// Lookup returns the sync named name, or an error listing the known ones with the closest.
func Lookup(defs []*Def, name string) (*Def, error) {
	names := make([]string, len(defs))
	for i, d := range defs {
		if d.Name == name {
			return d, nil
		}
		names[i] = d.Name
	}
	if len(defs) == 0 {
		return nil, fmt.Errorf("no sync named %q: the project has no syncs (add one to syncs/*.yml)", name)
	}
	msg := fmt.Sprintf("no sync named %q", name)
	if s := config.Suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += " (syncs: " + strings.Join(names, ", ") + ")"
	}
	return nil, fmt.Errorf("%s", msg)
}
