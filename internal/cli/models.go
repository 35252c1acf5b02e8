package cli

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/dag"
	"github.com/cdp-dev/cdp/internal/load"
	"github.com/cdp-dev/cdp/internal/project"
	"github.com/cdp-dev/cdp/internal/run"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// ModelOptions are the flags shared by compile, run models, test, build and seed.
type ModelOptions struct {
	Select      []string
	Exclude     []string
	Threads     int
	FullRefresh bool
	Vars        string // YAML or JSON mapping overlaying the project's vars
	State       string // target directory of a previous compile, for state:modified and breaking changes
	TargetDir   string // where compiled SQL and the manifest are written; default <project>/target
}

func addSelectionFlags(cmd *cobra.Command, o *ModelOptions) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.Select, "select", "s", nil, "nodes to include: name, +name, name+, tag:x, path:models/x, state:modified, source:raw.events (repeatable; space = union, comma = intersection)")
	f.StringArrayVar(&o.Exclude, "exclude", nil, "nodes to leave out (same syntax as --select)")
	f.StringVar(&o.Vars, "vars", "", `vars overriding the project's, as YAML: '{country: US}'`)
	f.StringVar(&o.State, "state", "", "target directory of a previous compile (for state:modified)")
	f.StringVar(&o.TargetDir, "target-path", "", "where compiled SQL and manifest.json go (default: <project>/target)")
}

// session is a compiled project with its warehouse open.
type session struct {
	proj      *project.Project
	target    *config.Target
	wh        warehouse.Warehouse
	res       *compile.Result
	graph     *dag.Graph
	previous  *compile.Manifest
	targetDir string // where compiled SQL and the manifest are written
}

func (s *session) Close() error {
	if s.wh != nil {
		return s.wh.Close()
	}
	return nil
}

// openSession reads, compiles and writes target/ for the project, with its warehouse open.
func openSession(ctx context.Context, app *App, o *ModelOptions, holder string) (*session, error) {
	if o.Threads < 0 {
		return nil, usagef("--threads must be 1 or more (0 or unset: the target's threads), not %d", o.Threads)
	}
	proj, err := project.Load(app.ProjectDir, nil)
	if err != nil {
		return nil, err
	}
	for _, w := range proj.Warnings {
		if !app.Quiet {
			fmt.Fprintln(app.Err, "warning:", w)
		}
	}
	t, err := proj.Config.Target(app.Target)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{}
	if o.Vars != "" {
		if err := yaml.Unmarshal([]byte(o.Vars), &vars); err != nil {
			return nil, usagef("--vars: want a YAML mapping like '{country: US}': %v", err)
		}
	}
	wh, err := warehouse.Open(ctx, warehouse.Config{
		Type: t.Type, Path: t.Path, Project: t.Project, Dataset: t.Dataset, Location: t.Location, Holder: holder,
	})
	if err != nil {
		return nil, err
	}
	s := &session{proj: proj, target: t, wh: wh}
	schema := "main"
	if t.Type == "bigquery" {
		schema = t.Dataset
	}
	s.res, err = compile.Compile(proj, compile.Options{Target: t, Schema: schema, Dialect: wh.Dialect(), Vars: vars})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.targetDir = o.TargetDir
	if s.targetDir == "" {
		s.targetDir = filepath.Join(proj.Dir, "target")
	}
	if o.State != "" {
		s.previous, err = compile.ReadManifest(filepath.Join(o.State, "manifest.json"))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("--state %s: %w (run cdp compile and keep its target/ directory)", o.State, err)
		}
	}
	if err := compile.WriteTarget(s.targetDir, s.res); err != nil {
		s.Close()
		return nil, err
	}
	s.graph = dag.New()
	for id := range s.res.Nodes {
		s.graph.AddNode(id)
	}
	for id, parents := range s.res.Parents {
		for _, p := range parents {
			if _, ok := s.res.Nodes[p]; ok {
				s.graph.AddEdge(p, id)
			}
		}
	}
	return s, nil
}

// selectNodes applies --select/--exclude and keeps the kinds a command runs, in topological
// order. Tests come along with what they test, as dbt's eager indirect selection does.
func (s *session) selectNodes(o *ModelOptions, kinds ...string) ([]*compile.Node, error) {
	ids, err := s.graph.Select(o.Select, o.Exclude, s.resolve)
	var nm *dag.NoMatchError
	if errors.As(err, &nm) {
		return nil, usagef("%v; check the name, or list nodes with cdp compile --json", err)
	}
	if err != nil {
		return nil, usagef("%v", err)
	}
	chosen := map[string]bool{}
	for _, id := range ids {
		chosen[id] = true
	}
	if slices.Contains(kinds, compile.KindTest) && len(o.Select) > 0 {
		for id, n := range s.res.Nodes {
			if n.Kind != compile.KindTest || chosen[id] {
				continue
			}
			for _, p := range n.DependsOn {
				if chosen[p] {
					chosen[id] = true
					break
				}
			}
		}
	}
	var out []*compile.Node
	for _, id := range s.res.Order {
		n := s.res.Nodes[id]
		if chosen[id] && slices.Contains(kinds, n.Kind) && !excluded(id, o, s) {
			out = append(out, n)
		}
	}
	return out, nil
}

func excluded(id string, o *ModelOptions, s *session) bool {
	if len(o.Exclude) == 0 {
		return false
	}
	ids, _ := s.graph.Select(o.Exclude, nil, s.resolve)
	return slices.Contains(ids, id)
}

// resolve answers selector methods for dag.Select.
func (s *session) resolve(method, value string) ([]string, error) {
	var out []string
	match := func(pred func(n *compile.Node) bool) {
		for _, id := range s.res.Order {
			if pred(s.res.Nodes[id]) {
				out = append(out, id)
			}
		}
	}
	switch method {
	case "":
		match(func(n *compile.Node) bool {
			name := nodeName(n)
			if ok, _ := path.Match(value, name); ok {
				return true
			}
			if n.Model != nil && n.Model.Version != "" {
				if ok, _ := path.Match(value, n.Model.Name+".v"+n.Model.Version); ok {
					return true
				}
				if value == n.Model.Name && n.Model.Latest {
					return false // covered by the name match above only for the latest
				}
			}
			return n.ID == value
		})
	case "tag":
		match(func(n *compile.Node) bool { return slices.Contains(n.Config.Tags, value) })
	case "path":
		p := strings.TrimSuffix(filepath.ToSlash(value), "/")
		match(func(n *compile.Node) bool {
			return n.Path == p || strings.HasPrefix(n.Path, p+"/")
		})
	case "source":
		match(func(n *compile.Node) bool {
			for _, src := range n.Sources {
				if src == value || strings.HasPrefix(src, value+".") {
					return true
				}
			}
			return false
		})
	case "config.materialized":
		match(func(n *compile.Node) bool { return n.Config.Materialized == value })
	case "resource_type":
		match(func(n *compile.Node) bool { return n.Kind == value })
	case "state":
		if s.previous == nil {
			return nil, errors.New("state: selectors need --state DIR (the target/ of a previous compile)")
		}
		switch value {
		case "modified":
			match(func(n *compile.Node) bool {
				old, ok := s.previous.Nodes[n.ID]
				if !ok {
					return true
				}
				if old.Checksum == "" { // a manifest from before checksums: fall back
					return old.Fingerprint != n.Fingerprint
				}
				return old.Checksum != n.Checksum
			})
		case "new":
			match(func(n *compile.Node) bool { _, ok := s.previous.Nodes[n.ID]; return !ok })
		default:
			return nil, fmt.Errorf("state:%s: want state:modified or state:new", value)
		}
	default:
		return nil, fmt.Errorf("unknown selector method %q (use tag:, path:, source:, state:, config.materialized:, resource_type:)", method)
	}
	if len(out) == 0 && method != "" {
		return nil, dag.ErrEmptyOK
	}
	return out, nil
}

func nodeName(n *compile.Node) string {
	switch {
	case n.Model != nil:
		return n.Model.Name
	case n.Seed != nil:
		return n.Seed.Name
	}
	return strings.TrimPrefix(n.ID, n.Kind+".")
}

// runner builds a run.Runner over the session.
func (s *session) runner(app *App, o *ModelOptions) *run.Runner {
	threads := o.Threads
	if threads == 0 {
		threads = s.target.Threads
	}
	r := &run.Runner{
		WH: s.wh, Threads: threads, FullRefresh: o.FullRefresh, Nodes: s.res.Nodes,
		Sources: run.SourceRelations(s.proj.Sources), Dir: s.proj.Dir,
	}
	if !app.Quiet && !app.JSON {
		r.Reporter = run.LineReporter{W: app.Out}
	}
	return r
}

// runNodes runs nodes and reports the summary; a failed node makes the command fail.
func runNodes(ctx context.Context, app *App, s *session, o *ModelOptions, nodes []*compile.Node, what string) error {
	if len(nodes) == 0 {
		if app.JSON {
			return app.PrintJSON(&run.Summary{Results: []run.Result{}})
		}
		app.Human("Nothing to run: the selection has no %s.\n", what)
		return nil
	}
	sum, err := s.runner(app, o).Run(ctx, nodes, nil)
	if sum != nil && sum.Results == nil {
		sum.Results = []run.Result{} // only ephemeral models selected: --json prints [], not null
	}
	if sum != nil {
		if app.JSON {
			if jerr := app.PrintJSON(sum); jerr != nil {
				return jerr
			}
		} else {
			app.Human("\n%s\n", run.FormatSummary(sum))
		}
	}
	if err != nil {
		return err
	}
	if !sum.OK() {
		if app.JSON {
			return &silentError{code: ExitFailure}
		}
		return errors.New("some nodes failed; see above")
	}
	return nil
}

func NewCmdRun(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run models (cdp run models)",
	}
	o := &ModelOptions{}
	models := &cobra.Command{
		Use:   "models",
		Short: "Build the selected models in dependency order, skipping what did not change",
		Long: `Build models in dependency order, up to --threads at once. A model is rebuilt only when
its SQL, its config or anything upstream of it changed, or when the data of one of its inputs
changed (a load, a rebuilt parent); otherwise it is skipped. --full-refresh rebuilds everything
selected, incremental models from scratch. Tables are built beside the old one and swapped in,
so a failed model leaves its previous table intact.`,
		Example: `  cdp run models
  cdp run models -s +customers --full-refresh
  cdp run models -s tag:nightly --exclude stg_legacy`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openSession(cmd.Context(), app, o, "cdp run models")
			if err != nil {
				return err
			}
			defer s.Close()
			nodes, err := s.selectNodes(o, compile.KindModel)
			if err != nil {
				return err
			}
			return runNodes(cmd.Context(), app, s, o, nodes, "models")
		},
	}
	addSelectionFlags(models, o)
	models.Flags().IntVar(&o.Threads, "threads", 0, "models built at once (default: the target's threads)")
	models.Flags().BoolVar(&o.FullRefresh, "full-refresh", false, "rebuild everything selected, incremental models from scratch")
	cmd.AddCommand(models)
	return cmd
}

func NewCmdTest(app *App) *cobra.Command {
	o := &ModelOptions{}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run data tests (not_null, unique, accepted_values, relationships, singular tests)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openSession(cmd.Context(), app, o, "cdp test")
			if err != nil {
				return err
			}
			defer s.Close()
			nodes, err := s.selectNodes(o, compile.KindTest)
			if err != nil {
				return err
			}
			return runNodes(cmd.Context(), app, s, o, nodes, "tests")
		},
	}
	addSelectionFlags(cmd, o)
	cmd.Flags().IntVar(&o.Threads, "threads", 0, "tests run at once")
	return cmd
}

func NewCmdBuild(app *App) *cobra.Command {
	o := &ModelOptions{}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Seeds, models and tests in dependency order; a failing test skips what is downstream of it",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openSession(cmd.Context(), app, o, "cdp build")
			if err != nil {
				return err
			}
			defer s.Close()
			nodes, err := s.selectNodes(o, compile.KindSeed, compile.KindModel, compile.KindTest)
			if err != nil {
				return err
			}
			return runNodes(cmd.Context(), app, s, o, nodes, "nodes")
		},
	}
	addSelectionFlags(cmd, o)
	cmd.Flags().IntVar(&o.Threads, "threads", 0, "nodes run at once")
	cmd.Flags().BoolVar(&o.FullRefresh, "full-refresh", false, "rebuild everything selected")
	return cmd
}

func NewCmdSeed(app *App) *cobra.Command {
	o := &ModelOptions{}
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Load the CSV files under seeds/ as tables",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openSession(cmd.Context(), app, o, "cdp seed")
			if err != nil {
				return err
			}
			defer s.Close()
			nodes, err := s.selectNodes(o, compile.KindSeed)
			if err != nil {
				return err
			}
			return runNodes(cmd.Context(), app, s, o, nodes, "seeds")
		},
	}
	addSelectionFlags(cmd, o)
	cmd.Flags().BoolVar(&o.FullRefresh, "full-refresh", false, "reload every seed")
	return cmd
}

// CompileReport is what `cdp compile --json` prints.
type CompileReport struct {
	Models          int                      `json:"models"`
	Tests           int                      `json:"tests"`
	Seeds           int                      `json:"seeds"`
	TargetDir       string                   `json:"target_dir"`
	Problems        []run.Problem            `json:"problems"`
	BreakingChanges []compile.BreakingChange `json:"breaking_changes"`
}

func NewCmdCompile(app *App) *cobra.Command {
	o := &ModelOptions{}
	var noValidate bool
	cmd := &cobra.Command{
		Use:   "compile",
		Short: "Render every model to target/ and check it against the engine, building nothing",
		Long: `Render every model, seed and test to target/compiled/ and target/manifest.json, then check
each statement against the engine without building anything and without needing data: every
model is created as a view in an empty scratch database whose sources have the warehouse's (or
the contract's) columns. Unknown columns, type errors and missing relations are reported per
model. With --state DIR (the target/ of a previous compile), changes that break a contracted
model are reported too. Exits non-zero on any problem: this is the CI check.`,
		Example: `  cdp compile
  cdp compile --state prod-target/ --json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSession(ctx, app, o, "cdp compile")
			if err != nil {
				return err
			}
			defer s.Close()
			rep := &CompileReport{TargetDir: displayPath(s.targetDir), Problems: []run.Problem{}, BreakingChanges: []compile.BreakingChange{}}
			// Everything is rendered and checked (a selected model needs its parents), but only
			// the selection is counted and reported.
			selected, err := s.selectNodes(o, compile.KindSeed, compile.KindModel, compile.KindTest)
			if err != nil {
				return err
			}
			inSelection := map[string]bool{}
			for _, n := range selected {
				inSelection[n.ID] = true
				for _, src := range n.Sources {
					inSelection["source."+src] = true
				}
			}
			for _, n := range selected {
				switch n.Kind {
				case compile.KindModel:
					rep.Models++
				case compile.KindTest:
					rep.Tests++
				case compile.KindSeed:
					rep.Seeds++
				}
			}
			if !noValidate {
				problems, err := validate(ctx, s)
				if err != nil {
					return err
				}
				for _, p := range problems {
					if inSelection[p.ID] {
						rep.Problems = append(rep.Problems, p)
					}
				}
			}
			if s.previous != nil {
				for _, b := range compile.BreakingChanges(s.previous, compile.BuildManifest(s.res)) {
					if _, still := s.res.Nodes[b.ID]; inSelection[b.ID] || !still {
						rep.BreakingChanges = append(rep.BreakingChanges, b)
					}
				}
			}
			if app.JSON {
				if err := app.PrintJSON(rep); err != nil {
					return err
				}
			} else {
				for _, p := range rep.Problems {
					fmt.Fprintf(app.Out, "ERROR %s\n", p.Error())
				}
				for _, b := range rep.BreakingChanges {
					fmt.Fprintf(app.Out, "BREAKING %s\n", b)
				}
				app.Human("Compiled %d models, %d tests, %d seeds to %s", rep.Models, rep.Tests, rep.Seeds, rep.TargetDir)
				if noValidate {
					app.Human(" (not checked against the engine)\n")
				} else {
					app.Human("; %d problem(s)\n", len(rep.Problems))
				}
			}
			if len(rep.Problems)+len(rep.BreakingChanges) > 0 {
				if app.JSON {
					return &silentError{code: ExitFailure}
				}
				return fmt.Errorf("compile found %d problem(s) and %d breaking change(s)", len(rep.Problems), len(rep.BreakingChanges))
			}
			return nil
		},
	}
	addSelectionFlags(cmd, o)
	cmd.Flags().BoolVar(&noValidate, "no-validate", false, "only render and write target/; do not check statements against the engine")
	return cmd
}

// validate checks the compiled project against an empty scratch database of the target's engine.
func validate(ctx context.Context, s *session) ([]run.Problem, error) {
	if s.target.Type != "duckdb" {
		return nil, fmt.Errorf("cdp compile cannot yet check statements on %s; pass --no-validate", s.target.Type)
	}
	scratch, err := warehouse.Open(ctx, warehouse.Config{Type: "duckdb", Path: ":memory:"})
	if err != nil {
		return nil, err
	}
	defer scratch.Close()
	nodes := make([]*compile.Node, 0, len(s.res.Order))
	for _, id := range s.res.Order {
		nodes = append(nodes, s.res.Nodes[id])
	}
	d := s.wh.Dialect()
	declared := func(id string) ([]warehouse.Column, bool) {
		for _, src := range s.proj.Config.Sources {
			raw, _ := load.Relations(src)
			if raw.Schema+"."+raw.Name == id || src.Name == id {
				cols, err := load.RawColumns(d, src)
				return cols, err == nil
			}
		}
		for _, t := range s.proj.Sources {
			if t.ID != id || len(t.Columns) == 0 {
				continue
			}
			var cols []warehouse.Column
			for _, c := range t.Columns {
				if c.DataType == "" {
					return nil, false
				}
				cols = append(cols, warehouse.Column{Name: c.Name, Type: c.DataType})
			}
			return cols, true
		}
		return nil, false
	}
	return run.Validate(ctx, s.wh, scratch, s.proj.Dir, nodes, run.SourceRelations(s.proj.Sources), declared), nil
}

func NewCmdSource(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "source", Short: "Source commands (cdp source freshness)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "freshness",
		Short: "Check each source's newest loaded_at_field against its warn_after / error_after",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			proj, err := project.Load(app.ProjectDir, nil)
			if err != nil {
				return err
			}
			wh, _, err := app.OpenWarehouse(ctx, proj.Config, "cdp source freshness")
			if err != nil {
				return err
			}
			defer wh.Close()
			results, err := run.Freshness(ctx, wh, proj.Sources, time.Now())
			if err != nil {
				return err
			}
			if results == nil {
				results = []run.FreshnessResult{} // --json prints [], not null
			}
			failed := 0
			for _, r := range results {
				if r.Status == run.FreshnessError || r.Status == run.FreshnessRuntimeError {
					failed++
				}
			}
			if app.JSON {
				if err := app.PrintJSON(results); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					line := fmt.Sprintf("%-13s %s (%s): newest row %s old", strings.ToUpper(string(r.Status)), r.Source, r.Relation, r.Age.Round(time.Second))
					if r.Error != "" {
						line = fmt.Sprintf("%-13s %s (%s): %s", strings.ToUpper(string(r.Status)), r.Source, r.Relation, r.Error)
					}
					app.Human("%s\n", line)
				}
				if len(results) == 0 {
					app.Human("No source declares freshness (freshness: + loaded_at_field: in models/*.yml).\n")
				}
			}
			if failed > 0 {
				if app.JSON {
					return &silentError{code: ExitFailure}
				}
				return fmt.Errorf("%d source(s) are stale or could not be checked", failed)
			}
			return nil
		},
	})
	return cmd
}
