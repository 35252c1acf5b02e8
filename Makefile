# cdp — common tasks. `make test` is what CI runs (.ci/run); `make demo` is the README's demo.
GO        ?= go
BIN       ?= bin/cdp
PERSONS   ?= 2000
DEMO_DATA ?= examples/data/generated
# Events end today, so "last 30 days" audiences have members.
TODAY     := $(shell date +%F)

.PHONY: build test test-deps demo bench-load bench-sync vet fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/cdp

# Installs what the tests need on a fresh Debian machine, then runs every test.
test: test-deps
	$(GO) vet ./...
	CDP_REQUIRE_POSTGRES=1 $(GO) test -count=1 -timeout 20m ./...

test-deps:
	bash scripts/install-test-deps.sh

# The whole pipeline on the embedded DuckDB warehouse (.cdp/warehouse.duckdb): generate sample
# events, load them (bad lines quarantined), build the identity graph, profiles and audiences,
# and look at the results. Re-running it shows idempotency: loaded files and unchanged models
# are skipped.
demo: build
	$(BIN) generate events --persons $(PERSONS) --seed 42 --end $(TODAY) --out $(DEMO_DATA)
	$(BIN) load events $(DEMO_DATA)
	$(BIN) sql "select reason, count(*) as rows, min(source_file || ':' || line) as first_seen from raw.events_quarantine group by 1 order by 2 desc"
	$(BIN) build
	$(BIN) sql "select profiles, merges, splits, dropped_limit, dropped_blocked, largest_profile, rounds from identity_map_metrics order by built_at desc limit 1"
	$(BIN) sql "select profile_id, email, total_orders, round(total_spend, 2) as total_spend, round(spend_30d, 2) as spend_30d from profiles order by spend_30d desc limit 5"
	$(BIN) sql "select 'high_value_customers' as audience, count(*) as members from high_value_customers union all select 'cart_abandoners', count(*) from cart_abandoners"
	$(BIN) sync plan high_value_to_file
	$(BIN) sync run high_value_to_file
	@echo "--- what arrived (exports/high_value_to_file/):" && head -3 $$(ls -t exports/high_value_to_file/*.jsonl | head -1)

# The load benchmark of docs/benchmarks.md: 1M generated events, cdp load vs DuckDB read_json.
bench-load:
	CDP_BENCH_EVENTS=1000000 $(GO) test -run '^$$' -bench BenchmarkLoad -benchtime 1x -timeout 30m ./internal/load/

# The sync memory benchmark of docs/benchmarks.md: peak RSS of real cdp sync run processes on a
# 5M-row model sent to a local webhook (first, 5%-change and no-change runs).
bench-sync:
	CDP_BENCH_SYNC_ROWS=5000000 $(GO) test -run '^TestSyncPeakRSS$$' -v -count=1 -timeout 60m ./internal/cli/

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin .cdp target exports $(DEMO_DATA)
