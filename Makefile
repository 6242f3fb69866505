# Every CI gate has a target of the same name; `.ci/run` calls `make test`.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test fmt fmt-check lint check-layers unit

## run: start the server (development profile: embedded database in var/devdb, no setup)
run:
	$(CARGO) run --bin altrion-server

## test: formatting, lints, the dependency rule, and the whole test suite
test: fmt-check lint check-layers unit

unit:
	$(CARGO) test --workspace --all-targets --locked
	$(CARGO) test --workspace --doc --locked

## fmt: format the code
fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

## lint: clippy with warnings as errors
lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## check-layers: domain must not depend on I/O crates
check-layers:
	@deps=$$($(CARGO) tree -p altrion-domain --edges normal --prefix none --format '{p}' --locked | awk '{print $$1}' | sort -u); \
	bad=$$(echo "$$deps" | grep -E '^(mongodb|bson|actix.*|tokio|reqwest|hyper)$$' || true); \
	if [ -n "$$bad" ]; then echo "domain depends on I/O crates: $$bad"; exit 1; fi; \
	echo "check-layers: domain is free of I/O crates"
