#!/usr/bin/env bash
# Builds the bundled vulnerability DB from ../shared: the one command behind
# host/assets/coldscan.db.gz, also run by db-builder/tests/bundled.rs to check it is current.
#
#   host/assets/build-db.sh OUT [BUILT_AT]
#
# DB_BUILDER names a built coldscan-db-builder to use (default: cargo run --release).
# Source commits and dates are those of ../shared/vuln-list/BULK.md, the subset's
# PROVENANCE.tsv and the OSV snapshot. Families read only from the subset's samples (Debian,
# Ubuntu, Oracle, Photon) are marked --partial: a scan of them is never "complete".
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=$root/../shared
out=$1
built_at=${2:-2026-11-25T00:00:00Z}
if [ -n "${DB_BUILDER:-}" ]; then
  builder=("$DB_BUILDER")
else
  builder=(cargo run --release -q --manifest-path "$root/Cargo.toml" -p coldscan-db-builder --)
fi
subset=$shared/vuln-list/vuln-list-subset.tar.gz
"${builder[@]}" \
  --vuln-list "$shared/vuln-list/vuln-list-bulk.tar.gz" \
  --vuln-list "$subset" \
  --vuln-list-debian "$subset" \
  --vuln-list-nvd "$subset" \
  --vuln-list-redhat "$subset" \
  --osv "$shared/osv/almalinux-osv.tar.gz" \
  --source "alpine=vulsio/vuls-data-raw-alpine-secdb@9e13b6c and aquasecurity/vuln-list samples,2025-01-04" \
  --source "amazon=vulsio/vuls-data-raw-amazon@79411af and aquasecurity/vuln-list samples,2025-02-14" \
  --source "rocky=vulsio/vuls-data-raw-rocky-errata@8e4c6502 and aquasecurity/vuln-list@720d53e,2025-01-24" \
  --source "alma=aquasecurity/vuln-list@0da1393" \
  --source "oracle=aquasecurity/vuln-list@24c6c5d" \
  --source "photon=aquasecurity/vuln-list@720d53e" \
  --source "ubuntu=aquasecurity/vuln-list@575bffe and @1bda614" \
  --source "debian=aquasecurity/vuln-list-debian samples (vuln-list-subset PROVENANCE.tsv)" \
  --source "nvd=aquasecurity/vuln-list-nvd@1fe9cac" \
  --source "redhat=aquasecurity/vuln-list-redhat@88d1bfc" \
  --source "osv=AlmaLinux/osv-database@948f47a,2026-08-21" \
  --partial debian --partial ubuntu --partial oracle --partial photon \
  --built-at "$built_at" --out "$out"
