#!/usr/bin/env bash
#
# The upgrade benchmark's own tests: the load generator's (go test, against a fake Kratos) and report.py's
# (with the plot venv, so that the plot is tested too). Run by hack/test.sh; the harness itself is smoke-tested
# there on the local cluster.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "${KUO_ROOT}/hack/upgrade-bench"

(cd loadgen && go vet ./... && go test -count=1 ./...) >&2
python="$(./plot-env.sh)"
PYTHONDONTWRITEBYTECODE=1 "${python}" -m unittest discover -s . -p 'test_*.py' 2>&1 | tail -n 3 >&2
