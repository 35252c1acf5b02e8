package compile

import (
	"fmt"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
)

func isJinja(s string) bool { return strings.Contains(s, "{{") || strings.Contains(s, "{%") }

// resolveConfigExprs renders the Jinja that property files and dbt_project.yml may put in
// configs (enabled: "{{ target.name == 'prod' }}", schema: "{{ env_var('X') }}"), as dbt does,
// before any model is rendered. Most projects have none, and then this costs a string scan.
func (c *compiler) resolveConfigExprs() {
	var w *worker
	for _, u := range c.units {
		if !configHasJinja(u.provCfg) {
			continue
		}
		if w == nil {
			w = c.newWorker()
		}
		cfg := &u.provCfg
		for _, f := range []struct {
			key string
			dst *string
		}{{"materialized", &cfg.Materialized}, {"schema", &cfg.Schema}, {"alias", &cfg.Alias},
			{"incremental_strategy", &cfg.IncrementalStrategy}, {"on_schema_change", &cfg.OnSchemaChange}} {
			if v, ok := c.renderExpr(w, u.pos, "config "+f.key, *f.dst); ok {
				*f.dst = strings.TrimSpace(v)
			}
		}
		if s, ok := cfg.Extra["enabled"].(string); ok {
			delete(cfg.Extra, "enabled")
			if v, ok := c.renderExpr(w, u.pos, "config enabled", s); ok {
				b, ok := truth(v)
				if !ok {
					c.errs.add(u.pos, "config enabled: %s renders to %q; it must render to true or false", s, v)
				}
				cfg.Enabled = b
			}
		}
		for _, k := range sortedKeys(cfg.Extra) {
			if s, ok := cfg.Extra[k].(string); ok && isJinja(s) {
				if v, ok := c.renderExpr(w, u.pos, "config "+k, s); ok {
					cfg.Extra[k] = v
				}
			}
		}
		u.disabled = !cfg.Enabled
		u.provKey = c.keyFor(u, *cfg)
		u.provRV = c.relValueOf(u.provKey)
		u.cfg, u.key, u.rv = *cfg, u.provKey, u.provRV
	}
}

func configHasJinja(c project.Config) bool {
	if isJinja(c.Materialized) || isJinja(c.Schema) || isJinja(c.Alias) || isJinja(c.IncrementalStrategy) || isJinja(c.OnSchemaChange) {
		return true
	}
	for _, v := range c.Extra {
		if s, ok := v.(string); ok && isJinja(s) {
			return true
		}
	}
	return false
}

// renderExpr renders a Jinja string from a property file; errors point at pos.
func (c *compiler) renderExpr(w *worker, pos config.Pos, what, s string) (string, bool) {
	if !isJinja(s) {
		return s, true
	}
	t, err := c.parseInline(s)
	if err == nil {
		var out string
		out, err = c.render(w, t, &renderState{c: c, file: inlineFile, final: true}, nil)
		if err == nil {
			return out, true
		}
	}
	if err.Pos.File == inlineFile || err.Pos.File == "" {
		err.Pos = pos
	}
	err.Msg = fmt.Sprintf("%s: %s", what, err.Msg)
	c.errs.addErr(err)
	return "", false
}

// truth reads a rendered boolean as Jinja prints it.
func truth(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes":
		return true, true
	case "false", "0", "no", "", "none":
		return false, true
	}
	return false, false
}
