# inception: build and run the Inception stack with BuildKit and containerd.
# Run as root on Debian 12. Every target installs what it needs first.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
BIN := $(CURDIR)/bin
CTL := $(BIN)/inceptionctl
# Per test binary: test/integration holds the acceptance suite and the docker-peer test (7 images
# built by a private dockerd, then by the engine from the same Dockerfiles).
TEST_TIMEOUT ?= 50m
PKGS := ./...

.PHONY: all deps test-deps docker-peer inceptionctl engine base build up down test unit lint fmt examples clean

all: build

deps: ## what building and running the stack needs: scripts/packages/run.txt + buildkitd from its pin
	BIN=$(BIN) scripts/deps.sh run

test-deps: ## deps + what the tests need: scripts/packages/test.txt + golangci-lint from its pin
	BIN=$(BIN) scripts/deps.sh test

docker-peer: ## Debian's docker.io (no daemon started) + docker compose v2 from its pinned module, for the compose export's test and bench --variants compose
	BIN=$(BIN) scripts/docker-peer.sh

inceptionctl: ## the CLI, into bin/
	$(GO) build -trimpath -o $(CTL) ./cmd/inceptionctl

engine: deps inceptionctl ## start the embedded containerd + buildkitd
	$(CTL) engine start

base: inceptionctl ## the debian:bookworm base image (needs the packages and containerd only)
	BIN=$(BIN) scripts/deps.sh packages run
	$(CTL) base

# build and up run their steps side by side where they can (scripts/setup.sh):
# one line per step on the terminal, each step's output in bin/logs/.
build: ## packages, buildkitd, inceptionctl, base, then every service image
	BIN=$(BIN) GO=$(GO) scripts/setup.sh build

UP_FLAGS ?=
up: ## build what changed, then run the stack and wait until it is healthy
	BIN=$(BIN) GO=$(GO) UP_FLAGS="$(UP_FLAGS)" scripts/setup.sh up

down: inceptionctl ## stop and remove the stack (volumes stay; the engine keeps running)
	$(CTL) down

fmt:
	gofmt -w $$(git ls-files '*.go')

lint: ## no build output tracked, gofmt, go vet, golangci-lint
	scripts/check-tracked.sh
	BIN=$(BIN) scripts/deps.sh golangci-lint
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet $(PKGS)
	$(BIN)/golangci-lint run $(PKGS)

unit: ## tests that need no daemon
	$(GO) test -count=1 $(PKGS)

# CI=true: a skipped integration test fails, so a missing part never passes as a skip.
test: test-deps docker-peer lint inceptionctl examples ## lint, then every test, integration included, on the real engine
	CI=true INCEPTION_INTEGRATION=1 INCEPTION_BUILDKITD=$(BIN)/buildkitd INCEPTION_DOCKER_CONFIG=$(BIN)/docker-config \
	  $(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) $(PKGS)

clean: down ## stop the stack and the engine, remove bin/
	$(CTL) engine stop
	rm -rf $(BIN)

examples: ## compile the examples so they never rot
	$(GO) build -o /dev/null ./examples/...
