# toolhost: the two commands a new user needs are "make run" and "make test".
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/toolhost/toolhost/internal/cli.Version=$(VERSION)

.PHONY: run build test vet fmt-check fuzz bench clean generate

## run: build everything, then serve plugins.hcl with the bundled plugins
run: build
	./$(BIN)/toolhost serve --config plugins.hcl

## build: bin/toolhost, bin/gmail, bin/slack
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/toolhost ./cmd/toolhost
	$(GO) build -o $(BIN)/gmail ./plugins/gmail
	$(GO) build -o $(BIN)/slack ./plugins/slack

## test: vet, formatting, and every test with the race detector
test: vet fmt-check
	$(GO) test -race -count=1 -timeout 15m ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## fuzz: run each fuzz target for a short while (FUZZTIME=5s for a quick pass)
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./host/config
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./internal/manifest
	$(GO) test -run '^$$' -fuzz FuzzReadJournal -fuzztime $(FUZZTIME) ./host/store
	$(GO) test -run '^$$' -fuzz FuzzReplayDamagedJournal -fuzztime $(FUZZTIME) ./host/store
	$(GO) test -run '^$$' -fuzz FuzzCheckDamagedFile -fuzztime $(FUZZTIME) ./host/store
	$(GO) test -run '^$$' -fuzz FuzzDecodeRunBody -fuzztime $(FUZZTIME) ./host
	$(GO) test -run '^$$' -fuzz FuzzAPIKeyFromHeaders -fuzztime $(FUZZTIME) ./host/api
	$(GO) test -run '^$$' -fuzz FuzzLoadSecretKey -fuzztime $(FUZZTIME) ./host/store
	$(GO) test -run '^$$' -fuzz FuzzEncodeRun -fuzztime $(FUZZTIME) ./host/store
	$(GO) test -run '^$$' -fuzz FuzzLocalRun -fuzztime $(FUZZTIME) ./sdk
	$(GO) test -run '^$$' -fuzz FuzzDecodeArgs -fuzztime $(FUZZTIME) ./host/assistant
	$(GO) test -run '^$$' -fuzz FuzzErrorBodyMessage -fuzztime $(FUZZTIME) ./host/assistant

## bench: the benchmark harness (see bench/README.md)
bench:
	$(GO) run ./bench

## generate: remake the protocol's generated code (needs protoc, protoc-gen-go, protoc-gen-go-grpc)
generate:
	$(GO) generate ./internal/pluginrpc

clean:
	rm -rf $(BIN)
