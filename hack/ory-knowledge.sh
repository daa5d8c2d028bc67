#!/usr/bin/env bash
#
# Regenerates the releases part of a product's knowledge base,
# src/main/resources/products/<product>/releases.json, from each release's own
# SQL migrations directory; the hand-written part (release list, dates, migrate
# arguments, rules) is kept as it is.
#
#   hack/ory-knowledge.sh PRODUCT            rewrite the file
#   hack/ory-knowledge.sh PRODUCT --check    exit 1 (with a diff) when the file's migration lists are not what
#                                            the sources give; releases no source can be had for are named
#
#   PRODUCT    module                    migrations directory             git clone
#   kratos     github.com/ory/kratos     persistence/sql/migrations/sql   KRATOS_GIT
#   hydra      github.com/ory/hydra/v2   persistence/sql/migrations       HYDRA_GIT
#
# hack/kratos-knowledge.sh is `hack/ory-knowledge.sh kratos`.
#
# Where a release's migrations come from, first that works:
#   1. the module zip of <module>@<release> from the Go module proxy (here: Kratos v0.10.1, v0.11.0, v0.13.0,
#      v1.0.0 and v1.3.1; Hydra v2.1.2, v2.2.0 and v2.3.0; Hydra v2.0.x declare the module path
#      github.com/ory/hydra and v25/v26 are no valid /v2 versions, so no proxy has them);
#   2. a git clone (or a bare git directory) of the product's repository given as <PRODUCT>_GIT=<dir> (the tag's
#      tree).
# A release neither serves keeps what the file has (say so with --check).
#
# A migration's version is the file name's number; the dialect suffix (.postgres, .mysql, .cockroach,
# .sqlite3) says which databases apply it, no suffix means all. In the file a version applied by every
# database is written alone, others as version@dialect,dialect: exactly the rows `migrate` leaves in
# schema_migration (checked against real databases by the e2e tier and hack/images.sh verify-<product>). Each
# release lists what it adds to (and, rarely, removes from) the release before it in the file; the first lists
# all of its own.
#
# File names are read as ory/x's popx reads them (popx/match.go:
# ^(\d+)_([^.]+)(\.[a-z0-9]+)?(\.autocommit)?\.(up|down)\.(sql)$; the dialect goes through pop's
# CanonicalDialect, so .sqlite is sqlite3, and a bare .autocommit means every database).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"
require_cmd jq go

PRODUCT=${1:-}
shift || true
case "${PRODUCT}" in
  kratos)
    MODULE=github.com/ory/kratos
    REPO=github.com/ory/kratos
    DIR=persistence/sql/migrations/sql
    GIT_VAR=KRATOS_GIT
    ;;
  hydra)
    MODULE=github.com/ory/hydra/v2
    REPO=github.com/ory/hydra
    DIR=persistence/sql/migrations
    GIT_VAR=HYDRA_GIT
    ;;
  *)
    die "usage: $0 kratos|hydra [--check]"
    ;;
esac
# How this script is called for the product (in messages): the Kratos wrapper passes its own name.
SELF=${KUO_KNOWLEDGE_SELF:-hack/ory-knowledge.sh ${PRODUCT}}
FILE=src/main/resources/products/${PRODUCT}/releases.json
GIT_DIR_OF_PRODUCT=${!GIT_VAR:-}
check=0
[[ "${1:-}" == "--check" ]] && check=1

export GOMODCACHE="${KUO_CACHE}/go/mod" GOPATH="${KUO_CACHE}/go/path" GOFLAGS="-modcacherw" GO111MODULE=on
# sum.golang.org does not know every release (Kratos v0.13.0): the zip's hash is not what this checks.
export GONOSUMDB="${MODULE}"

# file names of the release's migrations directory, one a line; returns 1 when no source has it
migration_files() {
  local release=$1 json dir
  if json="$(go mod download -json "${MODULE}@${release}" 2>/dev/null)" && dir="$(jq -r '.Dir // empty' <<<"${json}")" && [[ -d "${dir}/${DIR}" ]]; then
    echo "module ${MODULE}@${release} (Go module proxy)" >&3
    ls "${dir}/${DIR}"
    return 0
  fi
  if [[ -n "${GIT_DIR_OF_PRODUCT}" ]] && git -C "${GIT_DIR_OF_PRODUCT}" rev-parse -q --verify "refs/tags/${release}" >/dev/null; then
    echo "git tag ${release} of ${REPO}" >&3
    git -C "${GIT_DIR_OF_PRODUCT}" ls-tree --name-only "${release}" "${DIR}/" | sed "s|^${DIR}/||"
    return 0
  fi
  return 1
}

# parse_name FILE_NAME: sets MIG_VERSION and MIG_DIALECT ("all" for every database) of an up migration; returns 1
# for any other file.
parse_name() {
  local f=$1 re
  re='^([0-9]+)_[^.]+(\.([a-z0-9]+))?(\.autocommit)?\.up\.sql$'
  [[ "${f}" =~ ${re} ]] || return 1
  MIG_VERSION=${BASH_REMATCH[1]}
  MIG_DIALECT=${BASH_REMATCH[3]}
  case "${MIG_DIALECT}" in
    "" | autocommit) MIG_DIALECT=all ;;
    postgresql | pg | pgx) MIG_DIALECT=postgres ;;
    cockroachdb | crdb) MIG_DIALECT=cockroach ;;
    sqlite) MIG_DIALECT=sqlite3 ;;
    postgres | mysql | cockroach | sqlite3) ;;
    *) die "${f}: dialect ${MIG_DIALECT} is not one popx knows" ;;
  esac
}

# the JSON array of versions, as described above, from file names on stdin
versions_json() {
  local f v
  declare -A dialects=()
  while read -r f; do
    parse_name "${f}" || continue
    dialects[${MIG_VERSION}]="${dialects[${MIG_VERSION}]:-} ${MIG_DIALECT}"
  done
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
    die "${FILE} differs from the releases' own migrations: run ${SELF}"
  fi
  ((${#missing[@]} == 0)) || log "not re-derived (no source here; ${GIT_VAR}=<clone> adds them): ${missing[*]}"
  log "${FILE} matches the releases' own migrations"
  exit 0
fi
jq --indent 1 . <<<"${updated}" >"${FILE}.tmp"
mv "${FILE}.tmp" "${FILE}"
((${#missing[@]} == 0)) || warn "kept as they were (no source here; ${GIT_VAR}=<clone> adds them): ${missing[*]}"
log "updated ${FILE}"
