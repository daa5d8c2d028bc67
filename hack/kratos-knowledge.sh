#!/usr/bin/env bash
#
# Regenerates the releases part of the Kratos knowledge base,
# src/main/resources/products/kratos/releases.json, from each release's own
# persistence/sql/migrations/sql tree; the hand-written part (rules, dates,
# notes) is kept as it is.
#
#   hack/kratos-knowledge.sh            rewrite the file
#   hack/kratos-knowledge.sh --check    exit 1 (with a diff) when the file's migration lists are not what
#                                       the sources give; releases no source can be had for are named
#
# This is `hack/ory-knowledge.sh kratos` (the same code makes the Hydra file); see there where the
# migrations come from (the Go module proxy, else a git clone given as KRATOS_GIT=<dir>) and how the file
# writes them.
set -euo pipefail
export KUO_LOG_PREFIX="${KUO_LOG_PREFIX:-kratos-knowledge.sh}"
export KUO_KNOWLEDGE_SELF=hack/kratos-knowledge.sh
exec "$(dirname "${BASH_SOURCE[0]}")/ory-knowledge.sh" kratos "$@"
