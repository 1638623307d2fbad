# inception: build and run the Inception stack with BuildKit and containerd.
# Run as root on Debian 12. Every target installs what it needs first.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
BIN := $(CURDIR)/bin
CTL := $(BIN)/inceptionctl
TEST_TIMEOUT ?= 25m
PKGS := ./...

.PHONY: all deps inceptionctl engine base build up down test unit lint fmt examples clean

all: build

deps: ## Debian packages + buildkitd (and golangci-lint) built from their pinned modules
	BIN=$(BIN) scripts/deps.sh

inceptionctl: ## the CLI, into bin/
	$(GO) build -trimpath -o $(CTL) ./cmd/inceptionctl

engine: deps inceptionctl ## start the embedded containerd + buildkitd
	$(CTL) engine start

base: engine ## the debian:bookworm base image
	$(CTL) base

build: base ## every service image
	$(CTL) build --progress plain

UP_FLAGS ?=
up: build ## build what changed, then run the stack and wait until it is healthy
	$(CTL) up -d --wait --wait-timeout 10m --progress plain $(UP_FLAGS)

down: inceptionctl ## stop and remove the stack (volumes stay; the engine keeps running)
	$(CTL) down

fmt:
	gofmt -w $$(git ls-files '*.go')

lint: deps ## no build output tracked, gofmt, go vet, golangci-lint
	scripts/check-tracked.sh
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet $(PKGS)
	$(BIN)/golangci-lint run $(PKGS)

unit: ## tests that need no daemon
	$(GO) test -count=1 $(PKGS)

test: deps lint inceptionctl examples ## lint, then every test, integration included, on the real engine
	INCEPTION_INTEGRATION=1 INCEPTION_BUILDKITD=$(BIN)/buildkitd \
	  $(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) $(PKGS)

clean: down ## stop the stack and the engine, remove bin/
	$(CTL) engine stop
	rm -rf $(BIN)

examples: ## compile the examples so they never rot
	$(GO) build -o /dev/null ./examples/...
