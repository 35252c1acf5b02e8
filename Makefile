# cdp — common tasks. `make test` is what CI runs (.ci/run); `make demo` is the README's demo.
GO        ?= go
BIN       ?= bin/cdp
PERSONS   ?= 2000
DEMO_DATA ?= examples/data/generated

.PHONY: build test test-deps demo bench-load vet fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/cdp

# Installs what the tests need on a fresh Debian machine, then runs every test.
test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

test-deps:
	bash scripts/install-test-deps.sh

# Generate sample events, load them into the embedded DuckDB warehouse (.cdp/warehouse.duckdb)
# and query them. Re-running it shows idempotency: files already loaded are skipped.
demo: build
	$(BIN) generate events --persons $(PERSONS) --seed 42 --out $(DEMO_DATA)
	$(BIN) load events $(DEMO_DATA)
	$(BIN) sql "select type, count(*) as events, count(distinct coalesce(user_id, anonymous_id)) as ids from raw.events group by 1 order by 2 desc"
	$(BIN) sql "select reason, count(*) as rows, min(source_file || ':' || line) as first_seen from raw.events_quarantine group by 1 order by 2 desc"

# The load benchmark of docs/benchmarks.md: 1M generated events, cdp load vs DuckDB read_json.
bench-load:
	CDP_BENCH_EVENTS=1000000 $(GO) test -run '^$$' -bench BenchmarkLoad -benchtime 1x -timeout 30m ./internal/load/

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin .cdp target $(DEMO_DATA)
