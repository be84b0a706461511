#!/usr/bin/env bash
# Installs the output validators the test suite runs (when missing): Microsoft's SARIF
# Multitool (npm, self-contained Linux build) under target/validators, and the CycloneDX
# Python library's strict JSON schema validator (PyPI).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/target/validators
tool=$dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
if [[ ! -x $tool ]]; then
  mkdir -p "$dir"
  (cd "$dir" && npm install --silent --no-audit --no-fund @microsoft/sarif-multitool-linux@5 >/dev/null)
  chmod +x "$tool"
fi
if ! python3 -c 'import cyclonedx.validation.json, jsonschema' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check "cyclonedx-python-lib[json-validation]>=11,<12"
fi
