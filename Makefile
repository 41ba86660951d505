# The two commands a fresh machine needs:
#   go run ./cmd/parley serve --dev     run a node on the embedded defaults
#   make test                           run the whole test suite
#
# make test runs PostgreSQL and external-NATS tests when PARLEY_TEST_POSTGRES
# and PARLEY_TEST_NATS are set (CI sets both and fails if they are unreachable).

GO ?= go

.PHONY: test vet wasm build bench

test: vet wasm
	$(GO) test -race -count=1 -timeout 15m ./...

# The client crypto and SDK must build for the browser (Go → WebAssembly).
wasm:
	GOOS=js GOARCH=wasm $(GO) build ./crypto ./sdk

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

build:
	$(GO) build -o parley ./cmd/parley

bench: build
	./parley bench all
