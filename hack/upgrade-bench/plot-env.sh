#!/usr/bin/env bash
#
# Creates the Python virtual environment that `report.py plot` runs with (matplotlib and its dependencies,
# pinned by plot-requirements.txt beside this script) and prints the path of its python on stdout:
#
#   "$(hack/upgrade-bench/plot-env.sh)" hack/upgrade-bench/report.py plot out.png DIR...
#
# Result: ${KUO_CACHE}/plot-venv (default cache root ~/.cache/kratos-upgrade-operator). It is made with
# ${PYTHON:-python3}, and made anew when plot-requirements.txt or that Python's version changes; otherwise the
# existing one is reused. Only wheels are installed, so nothing is compiled.
#
# Idempotent: a second run only hashes the inputs and returns at once.
# Logs go to stderr; stdout only carries the path.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

PYTHON=${PYTHON:-python3}
REQUIREMENTS="${KUO_ROOT}/hack/upgrade-bench/plot-requirements.txt"
VENV="${KUO_CACHE}/plot-venv"
# Written last, so that a venv whose installation was interrupted is never taken as ready.
STAMP="${VENV}/.kuo-input-key"

# Hash of everything the venv is made from.
input_key() {
  {
    "${PYTHON}" -c 'import sys; print(sys.version)'
    sha256sum <"${REQUIREMENTS}"
  } | sha256sum | cut -c1-16
}

create() {
  rm -rf "${VENV}"
  log "creating ${VENV} with $("${PYTHON}" --version 2>&1)"
  "${PYTHON}" -m venv "${VENV}"
  "${VENV}/bin/python" -m pip install --quiet --no-input --disable-pip-version-check --only-binary=:all: \
    -r "${REQUIREMENTS}" >&2 || { rm -rf "${VENV}"; die "pip install -r ${REQUIREMENTS} failed (output above)"; }
  "${VENV}/bin/python" -c 'import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot' \
    || { rm -rf "${VENV}"; die "matplotlib does not import in ${VENV}"; }
  printf '%s\n' "${KEY}" >"${STAMP}"
}

main() {
  require_cmd "${PYTHON}" sha256sum flock
  KEY=$(input_key)
  if [[ "$(cat "${STAMP}" 2>/dev/null)" != "${KEY}" ]]; then
    mkdir -p "${KUO_CACHE}"
    # Two benchmarks started at once must not both rebuild the same directory.
    exec 7>"${KUO_CACHE}/.plot-venv.lock"
    flock 7
    [[ "$(cat "${STAMP}" 2>/dev/null)" == "${KEY}" ]] || timed "plot venv" create
    exec 7>&-
  fi
  printf '%s\n' "${VENV}/bin/python"
}

main "$@"
