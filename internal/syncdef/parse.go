package syncdef

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/destination"
)

// Options changes how definitions are checked.
type Options struct {
	// Registry, when set, is used to check each destination against its Spec. Without it only
	// the shape of the destination is checked.
	Registry *destination.Registry
}

// Load reads every *.yml and *.yaml file under dirs (slash-separated, relative to fsys, such as
// a project's sync-paths; a missing directory holds no syncs) and returns the syncs sorted by
// name. Problems are returned together as config.Errors.
func Load(fsys fs.FS, dirs []string, opts Options) ([]*Def, error) {
	var files []string
	for _, dir := range dirs {
		err := fs.WalkDir(fsys, dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if p == dir && errors.Is(err, fs.ErrNotExist) {
					return fs.SkipAll
				}
				return err
			}
			if !e.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read syncs in %s: %w", dir, err)
		}
	}
	sort.Strings(files)
	p := &parser{r: config.NewReader(), opts: opts, seen: map[string]config.Pos{}}
	var defs []*Def
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		defs = append(defs, p.file(f, data)...)
	}
	if err := p.r.Err(); err != nil {
		return nil, err
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	return defs, nil
}

// Parse reads the syncs of one file's contents; file names it in messages.
func Parse(file string, data []byte, opts Options) ([]*Def, error) {
	p := &parser{r: config.NewReader(), opts: opts, seen: map[string]config.Pos{}}
	defs := p.file(file, data)
	if err := p.r.Err(); err != nil {
		return nil, err
	}
	return defs, nil
}

type parser struct {
	r    *config.Reader
	opts Options
	seen map[string]config.Pos // sync names so far, across files
}

var (
	fileKeys  = []string{"syncs"}
	syncKeys  = []string{"name", "description", "model", "primary_key", "mode", "mapping", "destination", "batch_size", "schedule", "consent", "guards"}
	guardKeys = []string{"max_remove_share", "max_add_share", "allow_empty"}
	constKeys = []string{"const"}
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

func pos(file string, n *yaml.Node) config.Pos { return config.Pos{File: file, Line: n.Line} }

func (p *parser) file(file string, data []byte) []*Def {
	top, ok := p.r.Parse(file, data)
	if !ok || top == nil {
		return nil
	}
	pairs, ok := p.r.Mapping(file, "", top, fileKeys)
	if !ok {
		return nil
	}
	var defs []*Def
	for _, kv := range pairs {
		list := config.Resolve(kv.Value)
		if config.IsNull(list) {
			continue
		}
		if list.Kind != yaml.SequenceNode {
			p.r.Errorf(file, list, "syncs must be a list of syncs (- name: ... lines), got %s", config.Describe(list))
			continue
		}
		for i, item := range list.Content {
			if d := p.sync(file, fmt.Sprintf("syncs[%d]", i), config.Resolve(item)); d != nil {
				defs = append(defs, d)
			}
		}
	}
	return defs
}

func (p *parser) sync(file, where string, n *yaml.Node) *Def {
	pairs, ok := p.r.Mapping(file, where, n, syncKeys)
	if !ok {
		return nil
	}
	d := &Def{Pos: pos(file, n)}
	vals := map[string]*yaml.Node{}
	for _, kv := range pairs {
		vals[kv.Key] = kv.Value
	}
	str := func(key string) string {
		s, _ := p.r.Str(file, where+"."+key, vals[key])
		return s
	}
	required := func(key, example string) string {
		v, ok := vals[key]
		if !ok || config.IsNull(v) {
			p.r.Add(d.Pos, "%s has no %s; add %s: %s", label(d, where), key, key, example)
			return ""
		}
		s := str(key)
		if s == "" {
			p.r.Errorf(file, v, "%s.%s is empty; write %s: %s", where, key, key, example)
		}
		return s
	}

	d.Name = required("name", "my_sync")
	if d.Name != "" {
		switch {
		case !nameRE.MatchString(d.Name):
			p.r.Errorf(file, vals["name"], "sync name %q must be lower case letters, digits and _, starting with a letter (it names the sync's state tables)", d.Name)
		default:
			if first, dup := p.seen[d.Name]; dup {
				p.r.Errorf(file, vals["name"], "sync %q is defined twice (first at %s); rename one", d.Name, first)
			} else {
				p.seen[d.Name] = pos(file, vals["name"])
			}
		}
	}
	where = label(d, where)
	d.Description = str("description")
	d.Model = required("model", "high_value_customers")
	if d.Model != "" {
		parts := strings.Split(d.Model, ".")
		if len(parts) > 2 || slices.Contains(parts, "") {
			p.r.Errorf(file, vals["model"], "%s.model %q must be a model name or schema.name", where, d.Model)
		}
	}
	d.PrimaryKey = required("primary_key", "profile_id")
	if m := required("mode", "mirror"); m != "" {
		d.Mode = Mode(m)
		if !slices.Contains(Modes, d.Mode) {
			p.unknownValue(file, vals["mode"], where+".mode", m, modeNames())
		}
	}
	mappingErrs := p.r.Len()
	if n, ok := vals["mapping"]; ok {
		d.Mapping = p.mapping(file, where+".mapping", n)
	}
	if len(d.Mapping) == 0 && p.r.Len() == mappingErrs {
		at := d.Pos
		if n, ok := vals["mapping"]; ok {
			at = pos(file, n)
		}
		p.r.Add(at, "%s has no mapping; add mapping: with destination_field: model_column lines (or field: {const: value})", where)
	}
	if n, ok := vals["batch_size"]; ok {
		d.BatchSize, _ = p.r.Int(file, where+".batch_size", n)
		if d.BatchSize < 0 || (d.BatchSize == 0 && !config.IsNull(n)) {
			p.r.Errorf(file, n, "%s.batch_size must be 1 or more, got %d", where, d.BatchSize)
		}
	}
	if n, ok := vals["schedule"]; ok {
		d.Schedule = str("schedule")
		if d.Schedule != "" {
			if _, err := cron.ParseStandard(d.Schedule); err != nil {
				p.r.Errorf(file, n, "%s.schedule %q is not a valid cron schedule (%v); use 5 fields, minute hour day-of-month month day-of-week, such as \"*/15 * * * *\", or @hourly, @daily, @every 30m", where, d.Schedule, err)
			}
		}
	}
	if n, ok := vals["consent"]; ok {
		d.Consent = str("consent")
		if d.Consent != "" && !nameRE.MatchString(d.Consent) {
			p.r.Errorf(file, n, "%s.consent %q must be a purpose such as marketing (the model's consent_<purpose> column says who agreed)", where, d.Consent)
		}
	}
	if n, ok := vals["guards"]; ok {
		d.Guards = p.guards(file, where+".guards", n)
	}
	if n, ok := vals["destination"]; ok {
		d.Destination = p.destination(file, where+".destination", n, d)
	} else {
		p.r.Add(d.Pos, "%s has no destination; add destination: with type: and the destination's settings", where)
	}
	return d
}

func label(d *Def, where string) string {
	if d.Name != "" {
		return fmt.Sprintf("sync %q", d.Name)
	}
	return where
}

func modeNames() []string {
	out := make([]string, len(Modes))
	for i, m := range Modes {
		out[i] = string(m)
	}
	return out
}

func (p *parser) unknownValue(file string, n *yaml.Node, where, got string, valid []string) {
	msg := fmt.Sprintf("%s %q is not valid", where, got)
	if s := config.Suggest(got, valid); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; use one of " + strings.Join(valid, ", ")
	}
	p.r.Errorf(file, n, "%s", msg)
}

func (p *parser) mapping(file, where string, n *yaml.Node) []Field {
	pairs, ok := p.r.Mapping(file, where, n, nil)
	if !ok {
		return nil
	}
	var out []Field
	for _, kv := range pairs {
		f := Field{Name: kv.Key, Pos: pos(file, kv.KeyNode)}
		v := config.Resolve(kv.Value)
		switch {
		case kv.Key == "":
			p.r.Errorf(file, kv.KeyNode, "%s has an empty destination field name", where)
			continue
		case config.IsNull(v):
			p.r.Errorf(file, kv.KeyNode, "%s.%s has no value; write %s: model_column, or %s: {const: value}", where, kv.Key, kv.Key, kv.Key)
			continue
		case v.Kind == yaml.MappingNode:
			cp, ok := p.r.Mapping(file, where+"."+kv.Key, v, constKeys)
			if !ok {
				continue
			}
			if len(cp) == 0 {
				p.r.Errorf(file, v, "%s.%s: write {const: value} for a constant", where, kv.Key)
				continue
			}
			c := config.Resolve(cp[0].Value)
			if c.Kind != yaml.ScalarNode {
				p.r.Errorf(file, c, "%s.%s.const must be a single value (text, number, true/false or null), got %s", where, kv.Key, config.Describe(c))
				continue
			}
			f.Const = p.r.Value(file, where+"."+kv.Key+".const", c)
		case v.Kind == yaml.ScalarNode:
			f.Column, _ = p.r.Str(file, where+"."+kv.Key, v)
			if f.Column == "" {
				p.r.Errorf(file, v, "%s.%s is empty; name a model column", where, kv.Key)
				continue
			}
		default:
			p.r.Errorf(file, v, "%s.%s must be a model column name or {const: value}, got %s", where, kv.Key, config.Describe(v))
			continue
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (p *parser) guards(file, where string, n *yaml.Node) Guards {
	g := Guards{Pos: pos(file, n)}
	pairs, ok := p.r.Mapping(file, where, n, guardKeys)
	if !ok {
		return g
	}
	for _, kv := range pairs {
		switch kv.Key {
		case "max_remove_share", "max_add_share":
			s, ok := p.r.Str(file, where+"."+kv.Key, kv.Value)
			if !ok || s == "" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || f < 0 {
				p.r.Errorf(file, kv.Value, "%s.%s must be a share of the snapshot such as 0.2 (20%%), got %q", where, kv.Key, s)
				continue
			}
			if kv.Key == "max_remove_share" {
				g.MaxRemoveShare = &f
			} else {
				g.MaxAddShare = &f
			}
		case "allow_empty":
			g.AllowEmpty, _ = p.r.Bool(file, where+".allow_empty", kv.Value)
		}
	}
	return g
}

func (p *parser) destination(file, where string, n *yaml.Node, d *Def) Destination {
	dest := Destination{Pos: pos(file, n), Config: map[string]any{}, KeyPos: map[string]config.Pos{}}
	pairs, ok := p.r.Mapping(file, where, n, nil)
	if !ok {
		return dest
	}
	var typeNode *yaml.Node
	keyNodes := map[string]*yaml.Node{}
	for _, kv := range pairs {
		if kv.Key == "type" {
			typeNode = kv.Value
			dest.Type, _ = p.r.Str(file, where+".type", kv.Value)
			continue
		}
		keyNodes[kv.Key] = kv.KeyNode
		dest.KeyPos[kv.Key] = pos(file, kv.KeyNode)
		dest.Config[kv.Key] = p.r.Value(file, where+"."+kv.Key, kv.Value)
		// Syntax of ${...} is checked now; values are looked up when the sync runs.
		if _, err := expandValue(dest.Config[kv.Key], func(string) (string, bool) { return "x", true }); err != nil {
			p.r.Errorf(file, kv.Value, "%s.%s: %v", where, kv.Key, err)
		}
	}
	if dest.Type == "" {
		if typeNode == nil {
			p.r.Errorf(file, n, "%s has no type; add type: (webhook, file, ...)", where)
		} else {
			p.r.Errorf(file, typeNode, "%s.type is empty; name a destination type", where)
		}
		return dest
	}
	var spec destination.Spec
	known := false
	if reg := p.opts.Registry; reg != nil {
		spec, known = reg.Spec(dest.Type)
		if !known {
			msg := fmt.Sprintf("%s.type: unknown destination type %q", where, dest.Type)
			if s := config.Suggest(dest.Type, reg.Names()); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			if names := reg.Names(); len(names) > 0 {
				msg += " (available: " + strings.Join(names, ", ") + ")"
			} else {
				msg += " (no destinations are available in this build)"
			}
			p.r.Errorf(file, typeNode, "%s", msg)
			return dest
		}
	}
	secret := looksSecret
	if known {
		fields := map[string]destination.Field{}
		var names []string
		for _, f := range spec.Fields {
			fields[f.Name] = f
			names = append(names, f.Name)
		}
		secret = func(k string) bool { return fields[k].Secret }
		for _, kv := range pairs {
			if kv.Key == "type" {
				continue
			}
			if _, ok := fields[kv.Key]; !ok {
				msg := fmt.Sprintf("%s: %s destinations have no setting %q", where, dest.Type, kv.Key)
				if s := config.Suggest(kv.Key, names); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				} else if len(names) > 0 {
					msg += "; settings are " + strings.Join(names, ", ")
				}
				p.r.Errorf(file, kv.KeyNode, "%s", msg)
			}
		}
		for _, f := range spec.Fields {
			if v, ok := dest.Config[f.Name]; f.Required && (!ok || v == nil || v == "") {
				msg := fmt.Sprintf("%s: %s destinations need %s", where, dest.Type, f.Name)
				if f.Doc != "" {
					msg += " (" + f.Doc + ")"
				}
				if f.Example != "" {
					msg += fmt.Sprintf("; add %s: %s", f.Name, f.Example)
				}
				p.r.Errorf(file, n, "%s", msg)
			}
		}
		if len(spec.Modes) > 0 && d.Mode != "" && !slices.Contains(spec.Modes, string(d.Mode)) {
			p.r.Add(d.Pos, "%s: mode %s is not supported by %s destinations (they support %s)", label(d, "sync"), d.Mode, dest.Type, strings.Join(spec.Modes, ", "))
		}
		if spec.BatchSize > 0 && d.BatchSize > spec.BatchSize {
			p.r.Add(d.Pos, "%s: batch_size %d is more than %s destinations accept (%d); lower it or leave it out", label(d, "sync"), d.BatchSize, dest.Type, spec.BatchSize)
		}
	}
	for k, v := range dest.Config {
		if !secret(k) {
			continue
		}
		s, isString := v.(string)
		if v != nil && (!isString || !envRef.MatchString(s)) {
			p.r.Add(dest.KeyPos[k], "%s.%s is a secret: write it as ${ENV_VAR} and export the variable, never the secret itself in YAML", where, k)
		}
	}
	return dest
}

// Keys returns the destination's config keys in order, for listings.
func (d Destination) Keys() []string {
	keys := make([]string, 0, len(d.Config))
	for k := range d.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// String names the destination for messages: its type.
func (d Destination) String() string { return d.Type }
