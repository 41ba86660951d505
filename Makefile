# The two commands a fresh machine needs:
#   go run ./cmd/parley serve --dev     run a node on the embedded defaults
#   make test                           run the whole test suite
#
# make test runs PostgreSQL and external-NATS tests when PARLEY_TEST_POSTGRES
# and PARLEY_TEST_NATS are set (CI sets both and fails if they are unreachable).
# It also runs the Cloud API conformance suite (conformance/, npm client
# libraries driven by app/conformance_test.go) when node is installed; under
# CI=true a missing node fails instead of skipping.

GO ?= go

.PHONY: test vet wasm build bench web web-check conformance-deps

# Every package runs under the race detector but web, whose tests drive the
# browser against a whole node (the app package runs that node's wiring under
# the race detector): with it they took 8 of CI's 18 minutes on a slow
# machine of this kind; without it, after the rest, CI took 13 of its 20.
test: vet wasm conformance-deps
	$(GO) test -race -count=1 -timeout 15m $$($(GO) list ./... | grep -v '/parley/web$$')
	$(GO) test -count=1 -timeout 15m ./web

# Installs the pinned npm packages of conformance/ (npm ci) when node is
# there and they are missing or older than the lockfile.
conformance-deps:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
		if [ ! -f conformance/node_modules/.package-lock.json ] || \
		   [ conformance/package-lock.json -nt conformance/node_modules/.package-lock.json ]; then \
			(cd conformance && npm ci --no-audit --no-fund) || exit 1; \
		fi; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI=true: node and npm are required for the conformance suite (conformance/)"; exit 1; \
	else \
		echo "node not found: the Cloud API conformance suite (conformance/) will be skipped"; \
	fi

# The client crypto and SDK must build for the browser (Go → WebAssembly).
wasm:
	GOOS=js GOARCH=wasm $(GO) build ./crypto ./sdk ./web/wasm

# The web client's bundle (web/dist, embedded in the binary) needs Node.js
# only when web/src or web/wasm change: `make web` rebuilds it, and
# `make web-check` (run by CI) fails when the committed bundle differs from
# a rebuild. The browser tests run in `make test` (package web).
web:
	cd web && npm ci --no-audit --no-fund && npm run build

web-check:
	web/check-build.sh

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

build:
	$(GO) build -o parley ./cmd/parley

bench: build
	./parley bench all
