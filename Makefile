# database-service
GO        ?= go
BIN       := bin/database-service
PKGS      := ./...
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
TEST_TIMEOUT ?= 30m

BENCH_WINDOW ?= 30s

.PHONY: all build run run-cluster test test-short e2e lint fmt vet tidy-check bench bench-scale bench-soak clean

all: lint test build

## build: the binary into bin/
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/database-service

## run: standalone on embedded defaults (in-process bus, embedded Redis)
run: build
	./$(BIN)

## run-cluster: three replicas over the machine's RabbitMQ and Redis
run-cluster: build
	./deployments/run-cluster.sh

## test: everything, integration included, with the race detector; then the
## tests that make a Nacos SDK client reconnect (^TestSDK, built !race: the
## SDK's reconnect races) without it
test:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	$(GO) test -count=1 -run '^TestSDK' ./registry/ ./testsupport/fakenacos/

## e2e: the chaos suite (e2e/): the built binary, three replicas, the broker, the
## store and a replica SIGKILLed, network cuts; prints "N passed, N failed".
## E2E_INTERVAL=30s runs it on the service's default schedule.
E2E_TIMEOUT ?= 25m
e2e: build
	$(GO) test -tags e2e -count=1 -v -timeout $(E2E_TIMEOUT) ./e2e/ -args -bin $(CURDIR)/$(BIN)

## test-short: unit tests only (no servers needed)
test-short:
	$(GO) test -short -count=1 $(PKGS)

## lint: gofmt, go vet, golangci-lint when installed, go mod tidy check
lint: fmt vet tidy-check
	@if command -v golangci-lint >/dev/null 2>&1; then golangci-lint run ./...; else echo "golangci-lint not installed; skipped"; fi

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

tidy-check:
	@cp go.mod /tmp/go.mod.bak && cp go.sum /tmp/go.sum.bak; \
	$(GO) mod tidy; \
	if ! cmp -s go.mod /tmp/go.mod.bak || ! cmp -s go.sum /tmp/go.sum.bak; then \
	  cp /tmp/go.mod.bak go.mod; cp /tmp/go.sum.bak go.sum; echo "go mod tidy changes go.mod/go.sum"; exit 1; fi

## bench: benchmarks (needs the machine's Redis and RabbitMQ)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS)

## bench-scale: the load benchmark (docs/benchmarks.md): 1000 Redis targets at 1s
## standalone and shared, 10,000 at 10s on two replicas; needs the machine's Redis
## and RabbitMQ, and redis-server for the store
bench-scale: build
	$(GO) run ./bench/scale -mode embedded -targets 1000 -interval 1s -window $(BENCH_WINDOW)
	$(GO) run ./bench/scale -mode shared -targets 1000 -interval 1s -window $(BENCH_WINDOW)
	$(GO) run ./bench/scale -mode shared -targets 10000 -interval 10s -replicas 2 -redis spawn -window $(BENCH_WINDOW)

## bench-soak: 1000 targets at 1s for 10 minutes in each mode (RSS must stay flat)
bench-soak: build
	$(GO) run ./bench/scale -mode embedded -targets 1000 -interval 1s -window 10m
	$(GO) run ./bench/scale -mode shared -targets 1000 -interval 1s -window 10m

clean:
	rm -rf bin
