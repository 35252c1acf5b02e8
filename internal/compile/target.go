package compile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"
)

// ManifestVersion is the format version of manifest.json that this package writes.
const ManifestVersion = 1

// Manifest is target/manifest.json: what was compiled, for state:modified selection and
// breaking-change checks against a later compile.
type Manifest struct {
	Version int                      `json:"version"`
	Nodes   map[string]*ManifestNode `json:"nodes"`
}

// ManifestNode is one node of the manifest.
type ManifestNode struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Version is the model version ("" when unversioned); Latest is true for an unversioned
	// model and for the version ref() without v= resolves to.
	Version      string            `json:"version,omitempty"`
	Latest       bool              `json:"latest,omitempty"`
	Path         string            `json:"path"`
	CompiledPath string            `json:"compiled_path,omitempty"` // relative to the target dir
	Relation     *ManifestRelation `json:"relation,omitempty"`
	Materialized string            `json:"materialized,omitempty"`
	Fingerprint  string            `json:"fingerprint"`
	Checksum     string            `json:"checksum,omitempty"`
	DependsOn    []string          `json:"depends_on"`
	Sources      []string          `json:"sources"`
	Config       map[string]any    `json:"config"`
	// ContractEnforced is config contract.enforced: the declared columns and types are a
	// promise to downstream users.
	ContractEnforced bool             `json:"contract_enforced"`
	Description      string           `json:"description,omitempty"`
	Columns          []ManifestColumn `json:"columns,omitempty"`
	TestOf           string           `json:"test_of,omitempty"`
	Severity         string           `json:"severity,omitempty"`
}

// ManifestRelation is where a node is built.
type ManifestRelation struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
}

// ManifestColumn is a declared column of a model.
type ManifestColumn struct {
	Name        string `json:"name"`
	DataType    string `json:"data_type,omitempty"`
	Description string `json:"description,omitempty"`
}

// BuildManifest describes r as WriteTarget writes it, without writing anything.
func BuildManifest(r *Result) *Manifest {
	m, _ := buildManifest(r)
	return m
}

// buildManifest also returns the compiled file of each node (relative to the target dir).
func buildManifest(r *Result) (*Manifest, map[string]string) {
	m := &Manifest{Version: ManifestVersion, Nodes: make(map[string]*ManifestNode, len(r.Nodes))}
	files := map[string]string{}
	used := map[string]bool{}
	for _, id := range sortedKeys(r.Nodes) {
		n := r.Nodes[id]
		mn := &ManifestNode{
			ID:               n.ID,
			Kind:             n.Kind,
			Name:             nodeName(n),
			Path:             n.Path,
			Fingerprint:      n.Fingerprint,
			Checksum:         n.Checksum,
			DependsOn:        append([]string{}, n.DependsOn...),
			Sources:          append([]string{}, n.Sources...),
			Config:           configMap(n.Config),
			ContractEnforced: n.Config.ContractEnforced,
			Description:      n.Description,
			TestOf:           n.TestOf,
			Severity:         n.Severity,
		}
		if n.Kind != KindTest {
			mn.Materialized = n.Config.Materialized
		}
		if n.Model != nil {
			mn.Version = n.Model.Version
			mn.Latest = n.Model.Latest || n.Model.Version == ""
		}
		if n.Relation.Name != "" {
			mn.Relation = &ManifestRelation{Schema: n.Relation.Schema, Name: n.Relation.Name}
		}
		for _, c := range n.Columns {
			mn.Columns = append(mn.Columns, ManifestColumn(c))
		}
		if n.Kind != KindSeed {
			f := compiledPath(n)
			if used[f] {
				f = strings.TrimSuffix(f, ".sql") + "." + sanitizeID(n.ID) + ".sql"
			}
			used[f] = true
			files[id] = f
			mn.CompiledPath = f
		}
		m.Nodes[id] = mn
	}
	return m, files
}

func nodeName(n *Node) string {
	switch {
	case n.Model != nil:
		return n.Model.Name
	case n.Seed != nil:
		return n.Seed.Name
	}
	return strings.TrimPrefix(n.ID, "test.")
}

// compiledPath is where a node's SQL goes under the target dir: compiled/<model path> for
// models and singular tests, compiled/<properties file>/<test name>.sql for generic tests.
func compiledPath(n *Node) string {
	p := n.Path
	if n.Kind == KindTest && n.SingularSQL == "" {
		if p == "" {
			p = "tests"
		}
		p = path.Join(p, strings.TrimPrefix(n.ID, "test.")+".sql")
	} else if p == "" {
		p = path.Join(n.Kind+"s", sanitizeID(n.ID)+".sql")
	}
	p = path.Clean(p)
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		p = path.Join("outside", sanitizeID(p)+".sql")
	}
	return path.Join("compiled", p)
}

// WriteTarget writes the compiled SQL of every model and test under dir/compiled (the paths of
// their files; incremental models also get <name>.incremental.sql) and dir/manifest.json.
// The output depends only on r. compiled/ is replaced as a whole by renaming a fully written
// temporary directory, and manifest.json by renaming a fully written temporary file, so a
// crash never leaves a half-written target behind.
func WriteTarget(dir string, r *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m, files := buildManifest(r)
	tmp, err := os.MkdirTemp(dir, ".compiled-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// Thousands of small files: create each directory once, then write in parallel (the cost
	// is system calls, which overlap well).
	type job struct{ name, content string }
	var jobs []job
	dirs := map[string]bool{}
	for _, id := range sortedKeys(files) {
		n := r.Nodes[id]
		rel := strings.TrimPrefix(files[id], "compiled/")
		name := filepath.Join(tmp, filepath.FromSlash(rel))
		dirs[filepath.Dir(name)] = true
		jobs = append(jobs, job{name, n.SQL})
		if n.IncrementalSQL != "" {
			inc := strings.TrimSuffix(rel, ".sql") + ".incremental.sql"
			jobs = append(jobs, job{filepath.Join(tmp, filepath.FromSlash(inc)), n.IncrementalSQL})
		}
	}
	for d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, j := range jobs {
		g.Go(func() error { return os.WriteFile(j.name, []byte(j.content), 0o644) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	compiled := filepath.Join(dir, "compiled")
	old := ""
	if _, err := os.Lstat(compiled); err == nil {
		old = tmp + ".old"
		if err := os.Rename(compiled, old); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, compiled); err != nil {
		if old != "" {
			_ = os.Rename(old, compiled)
		}
		return err
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	data = append(data, '\n')
	return writeFileAtomic(filepath.Join(dir, "manifest.json"), data)
}

func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

// ReadManifest reads a manifest.json written by WriteTarget.
func ReadManifest(name string) (*Manifest, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: not a cdp manifest: %w; delete it and run cdp compile again", name, err)
	}
	if m.Version > ManifestVersion {
		return nil, fmt.Errorf("%s: manifest version %d was written by a newer cdp (this one reads version %d); upgrade cdp", name, m.Version, ManifestVersion)
	}
	if m.Nodes == nil {
		m.Nodes = map[string]*ManifestNode{}
	}
	return &m, nil
}
