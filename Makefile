# Every CI gate has a target of the same name; `.ci/run` calls `make test`.
SHELL := /bin/bash
CARGO ?= cargo
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver

.PHONY: run mock-oauth test unit e2e bench soak fuzz fmt fmt-check lint check-layers db-check db-cleanup db-migrate

## run: start the server (development profile: embedded database in var/devdb, no setup)
run:
	$(CARGO) run --bin altrion-server

## mock-oauth: local stand-ins for Google and GitHub on 127.0.0.1:9999 (see docs/oauth.md)
mock-oauth:
	$(CARGO) run -p altrion-mock-oauth --bin mock-oauth -- --port 9999

## test: formatting, lints, the dependency rule, every test, and the browser tests when
## Chromium is installed (CI installs it)
test: fmt-check lint check-layers unit
	@if [ -x "$(CHROMIUM)" ] && [ -x "$(CHROMEDRIVER)" ]; then \
		$(MAKE) --no-print-directory e2e; \
	else \
		echo "e2e: skipped, Chromium not installed (apt-get install chromium chromium-driver)"; \
	fi

# Benchmarks are built by `lint` but not run here: `make bench` runs them in release.
unit:
	$(CARGO) test --workspace --lib --bins --tests --locked
	$(CARGO) test --workspace --doc --locked

## e2e: the demo page in headless Chromium
e2e:
	$(CARGO) test -p altrion-server --features e2e --test e2e --locked

## bench: criterion micro-benchmarks, then the HTTP load benchmark (release build, needs wrk)
bench:
	$(CARGO) bench -p altrion-auth --bench tokens --bench passwords
	$(CARGO) bench -p altrion-session --bench store
	$(CARGO) bench -p altrion-mongo-embedded --bench driver_bench
	bench/http.sh

## soak: 60 s of mixed traffic against a release build; checks nothing is lost
soak:
	bench/soak.sh

## fuzz: the wire-protocol/BSON parser under cargo-fuzz (nightly; not run in CI)
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd crates/mongo-embedded/fuzz && cargo +nightly fuzz run parse_message -- -max_total_time=120

## fmt: format the code
fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

## lint: clippy over every crate, target and feature, warnings as errors
lint:
	$(CARGO) clippy --workspace --all-targets --all-features --locked -- -D warnings

## check-layers: domain must not depend on I/O crates
check-layers:
	@deps=$$($(CARGO) tree -p altrion-domain --edges normal --prefix none --format '{p}' --locked | awk '{print $$1}' | sort -u); \
	bad=$$(echo "$$deps" | grep -E '^(mongodb|bson|actix.*|tokio|reqwest|hyper)$$' || true); \
	if [ -n "$$bad" ]; then echo "domain depends on I/O crates: $$bad"; exit 1; fi; \
	echo "check-layers: domain is free of I/O crates"

## db-check / db-cleanup / db-migrate: the admin CLI on the configured database
db-check:
	$(CARGO) run -q --bin altrion -- db check

db-cleanup:
	$(CARGO) run -q --bin altrion -- db cleanup

db-migrate:
	$(CARGO) run -q --bin altrion -- db migrate
