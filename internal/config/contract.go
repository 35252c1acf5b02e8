package config

import (
	"slices"

	"gopkg.in/yaml.v3"
)

// FieldTypes are the types a contract field can have.
var FieldTypes = []string{"string", "integer", "number", "boolean", "timestamp", "object", "array", "any"}

// SegmentTypes are the Segment spec's call types, the default of Contract.AllowedTypes.
var SegmentTypes = []string{"track", "identify", "page", "screen", "group", "alias"}

var (
	contractKeys = []string{"version", "allowed_types", "fields", "tracking_plan"}
	fieldKeys    = []string{"name", "type", "required", "allowed", "description"}
	planKeys     = []string{"allow_unplanned_events", "events"}
	eventKeys    = []string{"name", "description", "properties"}
)

// contract parses a contract mapping, from a contract file (where "") or inline in a source.
func (p *parser) contract(file, where string, n *yaml.Node) *Contract {
	c := &Contract{Pos: Pos{File: file, Line: n.Line}, AllowUnplannedEvents: true}
	pairs, _ := p.mapping(file, where, n, contractKeys)
	for _, kv := range pairs {
		at := join(where, kv.key)
		switch kv.key {
		case "version":
			if v, ok := p.str(file, at, kv.val); ok && v != "1" {
				p.errorf(file, kv.val, "contract version %q is not supported; this cdp reads version 1", v)
			}
		case "allowed_types":
			c.AllowedTypes, _ = p.strList(file, at, kv.val)
		case "fields":
			c.Fields = p.fields(file, at, kv.val)
		case "tracking_plan":
			p.trackingPlan(c, file, at, kv.val)
		}
	}
	return c
}

func (p *parser) trackingPlan(c *Contract, file, where string, n *yaml.Node) {
	pairs, _ := p.mapping(file, where, n, planKeys)
	for _, kv := range pairs {
		at := join(where, kv.key)
		switch kv.key {
		case "allow_unplanned_events":
			if v, ok := p.bool(file, at, kv.val); ok && !isNull(kv.val) {
				c.AllowUnplannedEvents = v
			}
		case "events":
			for _, item := range p.list(file, at, kv.val) {
				c.Events = append(c.Events, p.event(file, at, item))
			}
		}
	}
}

func (p *parser) event(file, where string, n *yaml.Node) EventRule {
	ev := EventRule{Pos: Pos{File: file, Line: n.Line}}
	pairs, _ := p.mapping(file, where, n, eventKeys)
	for _, kv := range pairs {
		at := join(where, kv.key)
		switch kv.key {
		case "name":
			ev.Name, _ = p.str(file, at, kv.val)
		case "description":
			ev.Description, _ = p.str(file, at, kv.val)
		case "properties":
			ev.Properties = p.fields(file, at, kv.val)
		}
	}
	return ev
}

// fields parses a list of field rules; a field without a type accepts any value.
func (p *parser) fields(file, where string, n *yaml.Node) []Field {
	var out []Field
	for _, item := range p.list(file, where, n) {
		fd := Field{Type: "any", Pos: Pos{File: file, Line: item.Line}}
		pairs, _ := p.mapping(file, where, item, fieldKeys)
		for _, kv := range pairs {
			at := join(where, kv.key)
			switch kv.key {
			case "name":
				fd.Name, _ = p.str(file, at, kv.val)
			case "type":
				if t, ok := p.str(file, at, kv.val); ok && t != "" {
					fd.Type = t
				}
			case "required":
				fd.Required, _ = p.bool(file, at, kv.val)
			case "allowed":
				fd.Allowed, _ = p.strList(file, at, kv.val)
			case "description":
				fd.Description, _ = p.str(file, at, kv.val)
			}
		}
		out = append(out, fd)
	}
	return out
}

// list returns the items of a list (aliases resolved); null is an empty list.
func (p *parser) list(file, where string, n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(file, n, "%s must be a list (- item lines), got %s", where, describe(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		out[i] = resolve(item)
	}
	return out
}

// addSegmentDefaults makes sure a segment source checks what every Segment call must have,
// even with no contract: messageId (the dedupe key), type and timestamp. Fields the contract
// declares itself are kept as written, except that a `type` field without allowed values gets
// AllowedTypes.
func addSegmentDefaults(src *Source) {
	c := src.Contract
	if c == nil {
		c = &Contract{Pos: src.Pos, AllowUnplannedEvents: true}
		src.Contract = c
	}
	if len(c.AllowedTypes) == 0 {
		c.AllowedTypes = slices.Clone(SegmentTypes)
	}
	defaults := []Field{
		{Name: "messageId", Type: "string", Required: true},
		{Name: "type", Type: "string", Required: true, Allowed: c.AllowedTypes},
		{Name: "timestamp", Type: "timestamp", Required: true},
	}
	var missing []Field
	for _, d := range defaults {
		i := slices.IndexFunc(c.Fields, func(f Field) bool { return f.Name == d.Name })
		switch {
		case i < 0:
			d.Pos = c.Pos
			d.Allowed = slices.Clone(d.Allowed)
			missing = append(missing, d)
		case d.Name == "type" && len(c.Fields[i].Allowed) == 0:
			c.Fields[i].Allowed = slices.Clone(c.AllowedTypes)
		}
	}
	c.Fields = append(missing, c.Fields...)
}

// clone copies c deeply enough that defaults added for one source never show in another that
// shares the contract file.
func (c *Contract) clone() *Contract {
	if c == nil {
		return nil
	}
	out := *c
	out.AllowedTypes = slices.Clone(c.AllowedTypes)
	out.Fields = slices.Clone(c.Fields)
	out.Events = slices.Clone(c.Events)
	return &out
}
