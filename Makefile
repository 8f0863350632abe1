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

## test: run every test (installs Debian chromium for the browser tests when missing and possible)
.PHONY: test
test:
	@bash .ci/ensure-chromium
	$(GO) test -race -count=1 $(PKGS)

## bench: load-test the real server with wrk against a bare Echo ceiling; one table (BENCH_ARGS="--out FILE" for JSON)
.PHONY: bench
bench:
	GO=$(GO) $(GO) run ./internal/bench $(BENCH_ARGS)

## bench-go: run the Go benchmarks of every package and print a table
.PHONY: bench-go
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS) | tee /tmp/oauthdesk-bench.txt | grep -E '^(Benchmark|goos|pkg|ok)' | column -t

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
