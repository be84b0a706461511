#!/usr/bin/env bash
# The whole test suite, as CI runs it: tools, formatting, lints, the no_std proofs, all tests.
set -euo pipefail
cd "$(dirname "$0")"
testdata/install-tools.sh
testdata/install-validators.sh
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
cargo test --workspace --exclude coldscan-gui
# The desktop app: logic tests without a display, then image snapshots on Mesa's software
# Vulkan driver (installed by install-tools.sh).
cargo test -p coldscan-gui --features snapshot-tests
# The CLI and the app on the other desktop platforms: Windows executables are linked (mingw-w64),
# macOS is type-checked (no SDK here).
rustup target add x86_64-pc-windows-gnu x86_64-apple-darwin
cargo build --target x86_64-pc-windows-gnu -p coldscan -p coldscan-gui
cargo check --target x86_64-apple-darwin -p coldscan -p coldscan-gui
# Every committed fuzz corpus and crash file, and the shared repros, through their targets.
CARGO_TARGET_DIR=target/fuzz cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings
CARGO_TARGET_DIR=target/fuzz cargo test --manifest-path fuzz/Cargo.toml
