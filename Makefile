# oauthdesk — run `make help` for the targets.
GO      ?= go
BIN     := bin/oauthdesk
PKGS    := ./...

.DEFAULT_GOAL := help

## help: list the targets
.PHONY: help
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST) | column -t -s ':'

## build: build bin/oauthdesk
.PHONY: build
build:
	$(GO) build -o $(BIN) ./cmd/oauthdesk

## run: build and start the server on http://127.0.0.1:8080 with ./oauthdesk.db
.PHONY: run
run: build
	./$(BIN) serve

# Fuzz targets, package:function (testdata/fuzz holds their seed corpora).
FUZZ     := ./internal/pat:FuzzValid ./internal/domain:FuzzParseClientJWKS ./internal/audit:FuzzParseCheckpointFile ./internal/domain:FuzzValidateCallbackURL ./internal/scope:FuzzParse ./internal/web:FuzzParseAppsQuery \
            ./internal/web:FuzzTokenRequestForm ./internal/web:FuzzAuthorizeQuery ./internal/oauth:FuzzCheckAuthorize \
            ./internal/oauth:FuzzParseAccessToken ./internal/admin:FuzzParseImport ./internal/connector:FuzzParseRoleMap \
            ./internal/domain:FuzzRedirectURIMatches ./internal/domain:FuzzParseGrantTypes ./internal/safeout:FuzzRedactURL \
            ./internal/oauth:FuzzAppendJSONString ./internal/web:FuzzDecodeJSON
FUZZTIME ?= 60s

## test: run every test (installs Debian chromium for the browser tests, slapd and Node.js for the directory tests when missing and possible); with OAUTHDESK_TEST_POSTGRES set, the e2e suite runs again on PostgreSQL; then each fuzz target for 3 s
.PHONY: test
test:
	@bash .ci/ensure-chromium
	@bash .ci/ensure-slapd
	@bash .ci/ensure-node
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	@if [ -n "$${OAUTHDESK_TEST_POSTGRES:-}" ]; then \
		echo "e2e suite again, on PostgreSQL ($${OAUTHDESK_TEST_POSTGRES})"; \
		OAUTHDESK_E2E_DB=postgres $(GO) test -race -count=1 -timeout 30m ./internal/e2e/; \
	fi
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s

## fuzz: run each fuzz target for FUZZTIME (default 60s); a run that only hits the engine's own deadline (no failing input) runs once more
.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t#*:}; \
		echo "fuzz $$fn ($$pkg) for $(FUZZTIME)"; \
		if ! out=$$($(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) $$pkg 2>&1); then \
			echo "$$out"; \
			if echo "$$out" | grep -q 'Failing input' || ! echo "$$out" | grep -q 'context deadline exceeded'; then exit 1; fi; \
			echo "fuzz $$fn: the engine itself ran past its deadline (no failing input); once more"; \
			$(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) $$pkg; \
		else echo "$$out" | tail -n 1; fi; done

## bench: load-test the real server with wrk against a bare Echo ceiling; one table (BENCH_ARGS="--out FILE" for JSON)
.PHONY: bench
bench:
	GO=$(GO) $(GO) run ./internal/bench $(BENCH_ARGS)

## bench-go: run the Go benchmarks of every package and print a table
.PHONY: bench-go
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS) | tee /tmp/oauthdesk-bench.txt | grep -E '^(Benchmark|goos|pkg|ok)' | column -t

## bench-scale: seed 100k apps / 1M authorizations / 1M audit events once (kept in $TMPDIR), load every dashboard page and time the reports
.PHONY: bench-scale
bench-scale:
	@OAUTHDESK_BENCH_SCALE=1 $(GO) test -run '^$$' -bench '^BenchmarkScalePages$$' -benchtime 20x -timeout 60m -count=1 ./internal/e2e | tee /tmp/oauthdesk-bench-scale.txt | \
	  awk 'BEGIN { print "| page | p50 ms | p95 ms | KiB |"; print "| --- | ---: | ---: | ---: |" } \
	       /^BenchmarkScalePages\// { n = $$1; sub(/^BenchmarkScalePages\//, "", n); sub(/-[0-9]+$$/, "", n); gsub(/_/, " ", n); \
	         for (i = 3; i < NF; i++) { if ($$(i+1) == "p50-ms") p50 = $$i; if ($$(i+1) == "p95-ms") p95 = $$i; if ($$(i+1) == "KiB") kib = $$i } \
	         flag = (p95 > 50 || kib > 293) ? " (over goal)" : ""; printf "| %s | %s | %s | %s%s |\n", n, p50, p95, kib, flag } \
	       /^(FAIL|--- FAIL|panic)/ { print; bad = 1 } END { exit bad }'
	@OAUTHDESK_BENCH_SCALE=1 $(GO) test -run '^$$' -bench '^BenchmarkScaleCLI$$' -benchtime 3x -timeout 60m -count=1 ./internal/e2e | tee -a /tmp/oauthdesk-bench-scale.txt | \
	  awk 'BEGIN { print ""; print "| command | p50 ms | max RSS MiB | output MiB |"; print "| --- | ---: | ---: | ---: |" } \
	       /^BenchmarkScaleCLI\// { n = $$1; sub(/^BenchmarkScaleCLI\//, "", n); sub(/-[0-9]+$$/, "", n); gsub(/_/, " ", n); \
	         for (i = 3; i < NF; i++) { if ($$(i+1) == "p50-ms") p50 = $$i; if ($$(i+1) == "maxrss-MiB") rss = $$i; if ($$(i+1) == "out-MiB") out = $$i } \
	         printf "| %s | %s | %s | %s |\n", n, p50, rss, out } \
	       /^(FAIL|--- FAIL|panic)/ { print; bad = 1 } END { exit bad }'

## generate: regenerate templ components
.PHONY: generate
generate:
	$(GO) tool templ generate

## verify: fail on gofmt, go vet, go.mod tidiness or templ-regeneration differences
.PHONY: verify
verify:
	@out=$$(gofmt -l cmd internal views assets db); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) mod tidy -diff
	$(GO) tool templ generate
	@git diff --exit-code -- views || (echo "templ output is stale: run 'make generate' and commit"; exit 1)
	@untracked=$$(git ls-files --others --exclude-standard views); if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked"; exit 1; fi
