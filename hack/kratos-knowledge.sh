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
# Where a release's migrations come from, first that works:
#   1. the module zip of github.com/ory/kratos@<release> from the Go module proxy (the proxy here serves
#      v0.10.1, v0.11.0, v0.13.0, v1.0.0 and v1.3.1);
#   2. a git clone of github.com/ory/kratos given as KRATOS_GIT=<dir> (the tag's tree).
# A release neither serves keeps what the file has (say so with --check).
#
# A migration's version is the file name's number; the dialect suffix (.postgres, .mysql, .cockroach,
# .sqlite3) says which databases apply it, no suffix means all. In the file a version applied by every
# database is written alone, others as version@dialect,dialect: exactly the rows `migrate sql` leaves in
# schema_migration (checked against real databases by the e2e tier). Each release lists what it adds to
# (and, rarely, removes from) the release before it in the file; the first lists all of its own.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"
require_cmd jq go

FILE=src/main/resources/products/kratos/releases.json
MODULE=github.com/ory/kratos
DIR=persistence/sql/migrations/sql
check=0
[[ "${1:-}" == "--check" ]] && check=1

export GOMODCACHE="${KUO_CACHE}/go/mod" GOPATH="${KUO_CACHE}/go/path" GOFLAGS="-modcacherw" GO111MODULE=on
# sum.golang.org does not know every Kratos release (v0.13.0): the zip's hash is not what this checks.
export GONOSUMDB="${MODULE}"

# file names of the release's migrations directory, one a line; returns 1 when no source has it
migration_files() {
  local release=$1 json dir
  if json="$(go mod download -json "${MODULE}@${release}" 2>/dev/null)" && dir="$(jq -r '.Dir // empty' <<<"${json}")" && [[ -d "${dir}/${DIR}" ]]; then
    echo "module ${MODULE}@${release} (Go module proxy)" >&3
    ls "${dir}/${DIR}"
    return 0
  fi
  if [[ -n "${KRATOS_GIT:-}" ]] && git -C "${KRATOS_GIT}" rev-parse -q --verify "refs/tags/${release}" >/dev/null; then
    echo "git tag ${release} of ${MODULE}" >&3
    git -C "${KRATOS_GIT}" ls-tree --name-only "${release}" "${DIR}/" | sed "s|^${DIR}/||"
    return 0
  fi
  return 1
}

# the JSON array of versions, as described above, from file names on stdin
versions_json() {
  local f re='^([0-9]+)_[^.]+(\.(postgres|mysql|cockroach|sqlite3))?\.up\.sql$'
  declare -A dialects=()
  while read -r f; do
    [[ "${f}" =~ ${re} ]] || continue
    local v=${BASH_REMATCH[1]} d=${BASH_REMATCH[3]:-all}
    dialects[${v}]="${dialects[${v}]:-} ${d}"
  done
  local v
  for v in "${!dialects[@]}"; do
    if [[ " ${dialects[${v}]} " == *" all "* ]]; then
      echo "${v}"
    else
      echo "${v}@$(tr ' ' '\n' <<<"${dialects[${v}]}" | grep -v '^$' | sort -u | paste -sd, -)"
    fi
  done | sort | jq -R . | jq -s -c .
}

[[ -f "${FILE}" ]] || die "${FILE} is missing: it holds the release list and the rules this script completes"
current="$(cat "${FILE}")"

# Full lists, by release, as the file has them now (its deltas applied in order).
FULL_LISTS='reduce .releases[] as $r ({lists: {}, prev: []};
  ((.prev - ($r.migrations.removed // [])) + ($r.migrations.added // []) | unique) as $full
  | .lists[$r.version] = $full | .prev = $full) | .lists'
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
jq -c "${FULL_LISTS}" <<<"${current}" >"${work}/lists.json"
jq -c '[.releases[] | {key: .version, value: .migrationsFrom}] | from_entries' <<<"${current}" >"${work}/sources.json"
missing=()
for release in $(jq -r '.releases[].version' <<<"${current}"); do
  if migration_files "${release}" 3>"${work}/source" >"${work}/files"; then
    versions_json <"${work}/files" >"${work}/versions.json"
    jq -c --arg r "${release}" --slurpfile v "${work}/versions.json" '.[$r] = $v[0]' "${work}/lists.json" >"${work}/next" &&
      mv "${work}/next" "${work}/lists.json"
    jq -c --arg r "${release}" --arg s "$(cat "${work}/source")" '.[$r] = $s' "${work}/sources.json" >"${work}/next" &&
      mv "${work}/next" "${work}/sources.json"
  else
    missing+=("${release}")
  fi
done
# Deltas against the release before in the file.
updated="$(jq --slurpfile lists "${work}/lists.json" --slurpfile sources "${work}/sources.json" '
  $lists[0] as $l | $sources[0] as $s | .releases as $rs
  | .releases = [range(0; $rs | length) as $i | $rs[$i]
      | ($l[.version] // []) as $full
      | (if $i == 0 then [] else ($l[$rs[$i - 1].version] // []) end) as $prev
      | .migrationsFrom = $s[.version]
      | .migrations = ({added: ($full - $prev)} + (if ($prev - $full) == [] then {} else {removed: ($prev - $full)} end))]' \
  <<<"${current}")"

if ((check)); then
  # Compare the lists only: where a list came from may differ between machines.
  strip='.releases |= map(del(.migrationsFrom))'
  if ! diff <(jq -S "${strip}" <<<"${current}") <(jq -S "${strip}" <<<"${updated}") >&2; then
    die "${FILE} differs from the releases' own migrations: run hack/kratos-knowledge.sh"
  fi
  ((${#missing[@]} == 0)) || log "not re-derived (no source here; KRATOS_GIT=<clone> adds them): ${missing[*]}"
  log "${FILE} matches the releases' own migrations"
  exit 0
fi
jq --indent 1 . <<<"${updated}" >"${FILE}.tmp"
mv "${FILE}.tmp" "${FILE}"
((${#missing[@]} == 0)) || warn "kept as they were (no source here; KRATOS_GIT=<clone> adds them): ${missing[*]}"
log "updated ${FILE}"
