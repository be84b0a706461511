#!/usr/bin/env bash
# The whole test suite, as CI runs it: tools, formatting, lints, the no_std proof, all tests.
set -euo pipefail
cd "$(dirname "$0")"
testdata/install-tools.sh
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
# no_std is proven by linking the core into a freestanding binary (see nostd-check/).
CARGO_TARGET_DIR=target/nostd cargo build --manifest-path nostd-check/Cargo.toml
target/nostd/debug/coldscan-nostd-check
testdata/make-images.sh
testdata/make-xfs.sh
testdata/make-lvm.sh
cargo test --workspace
