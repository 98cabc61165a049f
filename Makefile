# toolhost: the two commands a new user needs are "make run" and "make test".
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/toolhost/toolhost/internal/cli.Version=$(VERSION)

.PHONY: run build test vet fmt-check fuzz bench clean generate

## run: build everything, then serve plugins.hcl with the bundled plugins
run: build
	@echo "==> serving plugins.hcl (Ctrl-C stops it)"
	./$(BIN)/toolhost serve --config plugins.hcl

## build: bin/toolhost, bin/web, bin/gmail, bin/slack (a line before each step;
## a first build downloads the modules and compiles them: a few minutes on 2 cores)
build:
	@echo "==> a first build downloads and compiles the modules: a few minutes on 2 cores; later builds take seconds"
	@echo "==> [1/5] downloading the modules the binaries need"
	@$(GO) list -deps ./cmd/toolhost ./plugins/web ./plugins/gmail ./plugins/slack >/dev/null
	@echo "==> [2/5] building bin/toolhost"
	@$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/toolhost ./cmd/toolhost
	@echo "==> [3/5] building bin/web"
	@$(GO) build -o $(BIN)/web ./plugins/web
	@echo "==> [4/5] building bin/gmail"
	@$(GO) build -o $(BIN)/gmail ./plugins/gmail
	@echo "==> [5/5] building bin/slack"
	@$(GO) build -o $(BIN)/slack ./plugins/slack
	@echo "==> built $(BIN)/toolhost $(BIN)/web $(BIN)/gmail $(BIN)/slack ($(VERSION))"

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
	GO=$(GO) scripts/fuzz-target ./host/config FuzzParse $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./internal/manifest FuzzDecode $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/store FuzzReadJournal $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/store FuzzReplayDamagedJournal $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/store FuzzCheckDamagedFile $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/core FuzzDecodeRunBody $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/api FuzzAPIKeyFromHeaders $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/pgstore FuzzDispatch $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/mcp FuzzPeek $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/mcpclient FuzzToolCatalog $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/store FuzzLoadSecretKey $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/store FuzzEncodeRun $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/pgstore FuzzParseDSN $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./sdk/internal/engine FuzzLocalRun $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./sdk/internal/engine FuzzCheckedRun $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./sdk/internal/engine FuzzDecodeConfig $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/supervisor FuzzRunResult $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/assistant FuzzDecodeArgs $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./host/assistant FuzzErrorBodyMessage $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./client FuzzEventReader $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./plugins/web FuzzParsePage $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./plugins/web FuzzLoadSettings $(FUZZTIME)
	GO=$(GO) scripts/fuzz-target ./plugins/web FuzzCheckURL $(FUZZTIME)

## bench: the benchmark harness (see bench/README.md)
bench:
	$(GO) run ./bench
	$(GO) test -run '^$$' -bench BenchmarkHostedMCP -benchtime 2s ./host/app

## generate: remake the protocol's generated code (needs protoc, protoc-gen-go, protoc-gen-go-grpc)
generate:
	$(GO) generate ./internal/pluginrpc

clean:
	rm -rf $(BIN)
