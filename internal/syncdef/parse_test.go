package syncdef

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/destination"
)

const vip = `syncs:
  - name: vip_to_webhook
    model: high_value_customers
    primary_key: profile_id
    mode: mirror
    mapping:
      email: email
      spend: total_spend
      source: {const: cdp}
    destination:
      type: webhook
      url: http://localhost:8080/hook
      secret: ${WEBHOOK_SECRET}
    batch_size: 500
    schedule: "*/15 * * * *"
    consent: marketing
    guards:
      max_remove_share: 0.2
      max_add_share: 2.0
      allow_empty: false
  - name: churned
    model: analytics.churned
    primary_key: id
    mode: insert
    mapping: {id: id}
    destination: {type: webhook, url: "http://x", secret: "${S}"}
`

type nopDest struct{}

func (nopDest) Spec() destination.Spec { return destination.Spec{} }
func (nopDest) Write(context.Context, destination.Batch) (destination.Result, error) {
	return destination.Result{}, nil
}

var _ destination.Destination = nopDest{}

func registry() *destination.Registry {
	r := destination.NewRegistry()
	r.Register(destination.Spec{
		Name: "webhook",
		Fields: []destination.Field{
			{Name: "url", Required: true, Doc: "where to POST", Example: "https://example.com/hook"},
			{Name: "secret", Secret: true},
			{Name: "timeout"},
		},
		Modes:     []string{"mirror", "upsert", "insert"},
		BatchSize: 1000,
	}, func(map[string]any) (destination.Destination, error) { return nopDest{}, nil })
	return r
}

func TestParseExample(t *testing.T) {
	fsys := fstest.MapFS{"syncs/vip.yml": {Data: []byte(vip)}}
	defs, err := Load(fsys, []string{"syncs", "missing"}, Options{Registry: registry()})
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 2 || defs[0].Name != "churned" || defs[1].Name != "vip_to_webhook" {
		t.Fatalf("defs %+v", defs)
	}
	d := defs[1]
	rs, as := 0.2, 2.0
	want := &Def{
		Name: "vip_to_webhook", Model: "high_value_customers", PrimaryKey: "profile_id", Mode: Mirror,
		Mapping: []Field{
			{Name: "email", Column: "email", Pos: config.Pos{File: "syncs/vip.yml", Line: 7}},
			{Name: "source", Const: "cdp", Pos: config.Pos{File: "syncs/vip.yml", Line: 9}},
			{Name: "spend", Column: "total_spend", Pos: config.Pos{File: "syncs/vip.yml", Line: 8}},
		},
		BatchSize: 500, Schedule: "*/15 * * * *", Consent: "marketing",
		Guards: Guards{MaxRemoveShare: &rs, MaxAddShare: &as, Pos: config.Pos{File: "syncs/vip.yml", Line: 18}},
		Pos:    config.Pos{File: "syncs/vip.yml", Line: 2},
	}
	got := *d
	got.Destination = Destination{}
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("def (-want +got):\n%s", diff)
	}
	if d.ConsentColumn() != "consent_marketing" {
		t.Errorf("consent column %q", d.ConsentColumn())
	}
	if d.Destination.Type != "webhook" || d.Destination.Config["secret"] != "${WEBHOOK_SECRET}" {
		t.Errorf("destination %+v", d.Destination)
	}
	cfg, err := d.Destination.Expand(func(k string) (string, bool) {
		return map[string]string{"WEBHOOK_SECRET": "s3"}[k], k == "WEBHOOK_SECRET"
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"url": "http://localhost:8080/hook", "secret": "s3"}, cfg); diff != "" {
		t.Errorf("expanded (-want +got):\n%s", diff)
	}
	_, err = d.Destination.Expand(func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), "syncs/vip.yml:13: destination.secret: environment variable WEBHOOK_SECRET is not set") {
		t.Errorf("expand without the variable: %v", err)
	}
	if defs[0].Model != "analytics.churned" || defs[0].Mode != Insert || defs[0].Guards.MaxRemoveShare != nil {
		t.Errorf("churned %+v", defs[0])
	}
	if _, err := Lookup(defs, "vip_to_webhok"); err == nil || !strings.Contains(err.Error(), `did you mean "vip_to_webhook"`) {
		t.Errorf("Lookup typo: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"typos", `syncs:
  - name: a
    modle: m
    primary_key: id
    mode: mirorr
    mapping: {x: x}
    destination: {type: webhok, url: u}
`, []string{
			`f.yml:2: sync "a" has no model; add model: high_value_customers`,
			`f.yml:3: unknown key "modle" in syncs[0]; did you mean "model"?`,
			`f.yml:5: sync "a".mode "mirorr" is not valid; did you mean "mirror"?`,
			`f.yml:7: sync "a".destination.type: unknown destination type "webhok"; did you mean "webhook"? (available: webhook)`,
		}},
		{"destination settings", `syncs:
  - name: a
    model: m
    primary_key: id
    mode: audience
    batch_size: 5000
    mapping: {x: x, y: {const: [1]}, z: [a]}
    destination:
      type: webhook
      secret: hunter2
      timout: 5
`, []string{
			`f.yml:2: sync "a": mode audience is not supported by webhook destinations (they support mirror, upsert, insert)`,
			`f.yml:2: sync "a": batch_size 5000 is more than webhook destinations accept (1000); lower it or leave it out`,
			`f.yml:7: sync "a".mapping.y.const must be a single value (text, number, true/false or null), got a list`,
			`f.yml:7: sync "a".mapping.z must be a model column name or {const: value}, got a list`,
			`f.yml:9: sync "a".destination: webhook destinations need url (where to POST); add url: https://example.com/hook`,
			`f.yml:10: sync "a".destination.secret is a secret: write it as ${ENV_VAR} and export the variable, never the secret itself in YAML`,
			`f.yml:11: sync "a".destination: webhook destinations have no setting "timout"; did you mean "timeout"?`,
		}},
		{"values", `syncs:
  - name: Bad-Name
    model: a.b.c
    primary_key: id
    mode: upsert
    mapping: {}
    destination: {type: webhook, url: "${UNCLOSED"}
    schedule: "every day"
    consent: "Marketing!"
    guards: {max_remove_share: lots, allow_empty: maybe}
  - name: dup
    model: m
    primary_key: id
    mode: insert
    mapping: {x: x}
    destination: {type: webhook, url: u}
  - name: dup
    model: m
    primary_key: id
    mode: insert
    mapping: {x: x}
    destination: {type: webhook, url: u}
`, []string{
			`f.yml:2: sync name "Bad-Name" must be lower case letters, digits and _, starting with a letter (it names the sync's state tables)`,
			`f.yml:3: sync "Bad-Name".model "a.b.c" must be a model name or schema.name`,
			`f.yml:6: sync "Bad-Name" has no mapping; add mapping: with destination_field: model_column lines (or field: {const: value})`,
			`f.yml:7: sync "Bad-Name".destination.url: unterminated ${ in "${UNCLOSED"; close it with } or write $$ for a literal $`,
			`f.yml:8: sync "Bad-Name".schedule "every day" is not a valid cron schedule`,
			`f.yml:9: sync "Bad-Name".consent "Marketing!" must be a purpose such as marketing`,
			`f.yml:10: sync "Bad-Name".guards.max_remove_share must be a share of the snapshot such as 0.2 (20%), got "lots"`,
			`f.yml:10: sync "Bad-Name".guards.allow_empty must be true or false, got "maybe"`,
			`f.yml:17: sync "dup" is defined twice (first at f.yml:11); rename one`,
		}},
		{"shape", "syncs: {name: x}\n", []string{`f.yml:1: syncs must be a list of syncs (- name: ... lines), got a mapping`}},
		{"syntax", "syncs:\n  - name: [\n", []string{`f.yml:2: invalid YAML`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yml", []byte(tc.yaml), Options{Registry: registry()})
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing error %q in:\n%s", w, err)
				}
			}
			if len(lines) != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%s", len(lines), len(tc.want), err)
			}
		})
	}
}

func TestSecretsWithoutRegistry(t *testing.T) {
	_, err := Parse("f.yml", []byte(`syncs:
  - name: a
    model: m
    primary_key: id
    mode: upsert
    mapping: {x: x}
    destination: {type: anything, api_token: abc, url: "${URL}"}
`), Options{})
	if err == nil || !strings.Contains(err.Error(), "f.yml:7: sync \"a\".destination.api_token is a secret") {
		t.Errorf("literal token: %v", err)
	}
}

func TestModes(t *testing.T) {
	for _, tc := range []struct {
		m                Mode
		changes, removes bool
	}{{Mirror, true, true}, {Upsert, true, false}, {Insert, false, false}, {Audience, true, true}} {
		if tc.m.SendsChanges() != tc.changes || tc.m.SendsRemoves() != tc.removes {
			t.Errorf("%s: changes %v removes %v", tc.m, tc.m.SendsChanges(), tc.m.SendsRemoves())
		}
	}
}
