#!/usr/bin/env bash
# The whole test suite, as CI runs it: tools, formatting, lints, the no_std proofs, all tests.
set -euo pipefail
cd "$(dirname "$0")"
testdata/install-tools.sh
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --all-targets -- -D warnings
# no_std is proven by linking the core into a freestanding binary (see nostd-check/) and by
# building it for two bare-metal targets (the appliance use case).
CARGO_TARGET_DIR=target/nostd cargo build --manifest-path nostd-check/Cargo.toml
target/nostd/debug/coldscan-nostd-check
rustup target add thumbv7em-none-eabihf riscv32imac-unknown-none-elf
for target in thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do
  CARGO_TARGET_DIR=target/nostd cargo build -p coldscan-core --target "$target"
done
testdata/make-images.sh
testdata/make-xfs.sh
testdata/make-lvm.sh
testdata/make-btrfs.sh
cargo test --workspace
# Every committed fuzz corpus and crash file, and the shared repros, through their targets.
CARGO_TARGET_DIR=target/fuzz cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings
CARGO_TARGET_DIR=target/fuzz cargo test --manifest-path fuzz/Cargo.toml
