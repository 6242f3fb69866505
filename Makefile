# Every CI gate has a target of the same name; `.ci/run` calls `make test`.
SHELL := /bin/bash
CARGO ?= cargo
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver

.PHONY: run mock-oauth test test-mongo unit e2e smtp bench soak fuzz fmt fmt-check lint check-layers db-check db-cleanup db-migrate

## run: start the server (development profile: embedded database in var/devdb, no setup)
run:
	$(CARGO) run --features dev-db --bin altrion-server

## mock-oauth: local stand-ins for Google and GitHub on 127.0.0.1:9999 (see docs/oauth.md)
mock-oauth:
	$(CARGO) run -p altrion-mock-oauth --bin mock-oauth -- --port 9999

## test: formatting, lints, the dependency rule, every test, the browser tests when
## Chromium is installed and the SMTP tests when aiosmtpd is (CI installs both)
test: fmt-check lint check-layers unit
	@if [ -x "$(CHROMIUM)" ] && [ -x "$(CHROMEDRIVER)" ]; then \
		$(MAKE) --no-print-directory e2e; \
	else \
		echo "e2e: skipped, Chromium not installed (apt-get install chromium chromium-driver)"; \
	fi
	@if python3 -c 'import aiosmtpd' 2>/dev/null; then \
		$(MAKE) --no-print-directory smtp; \
	else \
		echo "smtp: skipped, aiosmtpd not installed (python3 -m pip install aiosmtpd)"; \
	fi

# Benchmarks are built by `lint` but not run here: `make bench` runs them in release.
unit:
	$(CARGO) test --workspace --lib --bins --tests --locked
	$(CARGO) test --workspace --doc --locked

## test-mongo: the real-MongoDB variants (ignored by `make test`), against MONGODB_TEST_URI
test-mongo:
	@if [ -z "$$MONGODB_TEST_URI" ]; then \
		echo "test-mongo: set MONGODB_TEST_URI to a MongoDB >= 6.0 (e.g. mongodb://localhost:27017)"; exit 1; \
	fi
	$(CARGO) test --workspace --tests --locked -- --ignored

## e2e: the demo page in headless Chromium
e2e:
	$(CARGO) test -p altrion-server --features e2e --test e2e --locked

## smtp: the mail queue, and the recovery flow through the server, against a real SMTP server
## (Python's aiosmtpd, crates/mail/tests/smtp_sink.py)
smtp:
	$(CARGO) test -p altrion-mail --features smtp-tests --test smtp --locked
	$(CARGO) test -p altrion-server --features smtp-tests --test smtp --locked

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

## check-layers: every crate's allowed dependencies (design §2), checked with cargo tree
check-layers:
	@fail=0; \
	check() { \
		deps=$$($(CARGO) tree -p $$1 --edges normal --prefix none --format '{p}' --locked | awk '{print $$1}' | sort -u); \
		bad=$$(echo "$$deps" | grep -E "^($$2)$$" || true); \
		if [ -n "$$bad" ]; then echo "check-layers: $$1 must not depend on: $$(echo $$bad)"; fail=1; \
		else echo "check-layers: $$1 ok"; fi; \
	}; \
	check altrion-domain 'mongodb|bson|actix.*|tokio|reqwest|hyper|altrion-(storage|auth|session|server|cli|mongo-embedded)'; \
	check altrion-storage 'actix.*|altrion-auth|altrion-session|altrion-server'; \
	check altrion-auth 'mongodb|bson|actix.*|altrion-storage|altrion-session|altrion-server'; \
	check altrion-session 'mongodb|bson|altrion-storage|altrion-auth|altrion-server'; \
	check altrion-web 'mongodb|bson|altrion-(storage|config|mail|server|cli|mongo-embedded)'; \
	check altrion-server 'altrion-mock-oauth|altrion-mongo-embedded'; \
	check altrion-mail 'actix.*|mongodb|bson|altrion-(storage|auth|session|server|cli|config|mongo-embedded)'; \
	check altrion-config 'actix.*|altrion-session|altrion-server|altrion-mongo-embedded'; \
	check altrion-cli 'actix-web|altrion-server|altrion-mock-oauth|altrion-mongo-embedded'; \
	exit $$fail

## db-check / db-cleanup / db-migrate: the admin CLI on the configured database
db-check:
	$(CARGO) run -q --bin altrion -- db check

db-cleanup:
	$(CARGO) run -q --bin altrion -- db cleanup

db-migrate:
	$(CARGO) run -q --bin altrion -- db migrate
