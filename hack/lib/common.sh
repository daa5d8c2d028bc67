# shellcheck shell=bash
#
# Shared helpers for the scripts under hack/. Source it, do not execute it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Provides:
#   KUO_ROOT       absolute path of the repository root
#   KUO_CACHE      cache root (override with the KUO_CACHE environment variable)
#   log MSG...     timestamped message on stderr
#   warn MSG...    timestamped warning on stderr
#   die MSG...     timestamped error on stderr, then exit 1
#   require_cmd C  die unless command C is on PATH
#   fmt_duration S format a number of seconds as "1h02m03s" / "2m03s" / "3s"
#   timed LABEL CMD...  run CMD, then log how long it took; returns CMD's status
#
# All messages go to stderr so that a script's stdout stays machine-readable.

if [[ -n "${_KUO_COMMON_SH_LOADED:-}" ]]; then
  return 0
fi
_KUO_COMMON_SH_LOADED=1

# shellcheck disable=SC2034 # used by the scripts that source this file
KUO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
KUO_CACHE="${KUO_CACHE:-$HOME/.cache/kratos-upgrade-operator}"
export KUO_CACHE

# Name of the calling script, used as a log prefix.
KUO_LOG_PREFIX="${KUO_LOG_PREFIX:-$(basename "${0}")}"

log() {
  printf '%s [%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${KUO_LOG_PREFIX}" "$*" >&2
}

warn() {
  log "WARNING: $*"
}

die() {
  log "ERROR: $*"
  exit 1
}

require_cmd() {
  local c
  for c in "$@"; do
    command -v "${c}" >/dev/null 2>&1 || die "required command not found on PATH: ${c}"
  done
}

fmt_duration() {
  local s=$1
  if ((s >= 3600)); then
    printf '%dh%02dm%02ds' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
  elif ((s >= 60)); then
    printf '%dm%02ds' $((s / 60)) $((s % 60))
  else
    printf '%ds' "${s}"
  fi
}

# timed LABEL CMD [ARGS...]: runs CMD in a subshell with errexit enabled (so a
# failing step inside a function aborts that function, which `f || rc=$?` would
# silently prevent), logs the wall-clock duration and returns CMD's status.
# Because of the subshell, variables assigned by CMD do not reach the caller.
timed() {
  local label=$1
  shift
  local start=${SECONDS} rc=0 had_errexit=0
  [[ $- == *e* ]] && had_errexit=1
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  ((had_errexit)) && set -e
  if ((rc == 0)); then
    log "${label}: done in $(fmt_duration $((SECONDS - start)))"
  else
    log "${label}: FAILED (exit ${rc}) after $(fmt_duration $((SECONDS - start)))"
  fi
  return "${rc}"
}

# The operator as ./mvnw package lays it out.
OPERATOR_JAR=target/quarkus-app/quarkus-run.jar

# build_operator: packages the operator (tests skipped) unless the jar was built from the sources there are now:
# a hash of every file under src/main and of the pom, written next to the jar after each build, is compared
# (contents, not times, so a checkout of other sources is noticed too). A jar without that hash (packaged by
# ./mvnw verify, say) counts when it is newer than every source file. Run from KUO_ROOT.
# use_go_caches: the Go environment the tool builds share (hack/helm.sh, hack/promtool.sh, hack/flux.sh,
# hack/images.sh): one module and build cache under KUO_CACHE, deletable with plain `rm -rf`, no VCS stamping, static
# binaries, no workspace. It replaces any user GOFLAGS on purpose (-mod=vendor would break the builds).
use_go_caches() {
  export GOPATH="${KUO_CACHE}/go/path"
  export GOMODCACHE="${KUO_CACHE}/go/mod"
  export GOCACHE="${KUO_CACHE}/go/build"
  export GOFLAGS="-modcacherw -buildvcs=false"
  export GOWORK=off
  export GO111MODULE=on
  export CGO_ENABLED=0
  mkdir -p "${GOPATH}" "${GOMODCACHE}" "${GOCACHE}"
}

# installable_go_mod MODULE VERSION: downloads MODULE@VERSION through the Go module proxy and prints the path of its
# go.mod; dies with the proxy's error, or when the go.mod has replace directives (`go install pkg@version` refuses them).
installable_go_mod() {
  local module=$1 version=$2 json err mod_file
  json="$(go mod download -json "${module}@${version}" 2>&1)" || true
  err="$(jq -r '.Error // empty' <<<"${json}" 2>/dev/null || printf '%s' "${json}")"
  [[ -z "${err}" ]] || die "cannot download ${module}@${version}: ${err}"
  mod_file="$(jq -r .GoMod <<<"${json}")"
  if grep -qE '^[[:space:]]*replace[[:space:](]' "${mod_file}"; then
    die "${module}@${version} has replace directives in its go.mod; go install cannot build it (pick another version)"
  fi
  printf '%s\n' "${mod_file}"
}

# with_progress LABEL CMD [ARGS...]: runs CMD with its output in a log file (KUO_LOGS, or a temporary one), printing
# "LABEL... Ns" every 15 s while it runs, then "LABEL: done in ..."; on failure the log's tail and the status.
with_progress() {
  local label=$1 logfile start=${SECONDS} pid rc=0
  shift
  logfile="$(mktemp "${TMPDIR:-/tmp}/kuo-progress.XXXXXX")"
  log "${label}..."
  ( set -e; "$@" ) >"${logfile}" 2>&1 &
  pid=$!
  while kill -0 "${pid}" 2>/dev/null; do
    sleep 1
    if (( (SECONDS - start) % 15 == 0 )) && kill -0 "${pid}" 2>/dev/null; then
      log "${label}... $(fmt_duration $((SECONDS - start)))"
    fi
  done
  wait "${pid}" || rc=$?
  if ((rc != 0)); then
    tail -n 30 "${logfile}" >&2
    log "${label}: FAILED after $(fmt_duration $((SECONDS - start))) (log: ${logfile})"
    return "${rc}"
  fi
  log "${label}: done in $(fmt_duration $((SECONDS - start)))"
  rm -f "${logfile}"
}

build_operator() {
  local stamp=target/quarkus-app/.sources.sha256 sources
  sources=$(find src/main pom.xml -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
  if [[ -f "${OPERATOR_JAR}" && ! -f "${stamp}" && -z "$(find src/main pom.xml -newer "${OPERATOR_JAR}" -print -quit)" ]]; then
    echo "${sources}" >"${stamp}"
  fi
  if [[ -f "${OPERATOR_JAR}" && "$(cat "${stamp}" 2>/dev/null)" == "${sources}" ]]; then
    log "operator: built from these sources already (${OPERATOR_JAR})"
    return 0
  fi
  timed "operator package (./mvnw package, about a minute cold)" ./mvnw -B -q -ntp package -DskipTests
  echo "${sources}" >"${stamp}"
}

# bench_user_kubeconfig DIR STATE: a kubeconfig in DIR for the user kuo-bench (group system:masters), its client
# certificate signed by the local cluster's CA (STATE/pki); prints its path. The API server's audit policy
# (hack/local-cluster.sh) records that user's requests, which is how the benchmarks count and time the operator's.
# The context names a namespace (default), where the operator then holds its leader-election lease.
# Needs KUBECTL and KUO_API_SERVER (the local cluster's env file).
bench_user_kubeconfig() {
  local dir=$1 state=$2 kubeconfig="$1/kuo-bench.kubeconfig"
  if [[ ! -s "${kubeconfig}" ]]; then
    # RSA: the fabric8 client the operator uses reads no EC client keys.
    openssl req -new -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kuo-bench" \
      -keyout "${dir}/kuo-bench.key" -out "${dir}/kuo-bench.csr" 2>/dev/null
    openssl x509 -req -in "${dir}/kuo-bench.csr" -CA "${state}/pki/ca.crt" -CAkey "${state}/pki/ca.key" \
      -CAserial "${dir}/kuo-bench.srl" -CAcreateserial -days 30 -sha256 -out "${dir}/kuo-bench.crt" 2>/dev/null
    KUBECONFIG="${kubeconfig}" "${KUBECTL}" config set-cluster local --server="${KUO_API_SERVER}" \
      --certificate-authority="${state}/pki/ca.crt" --embed-certs >/dev/null
    KUBECONFIG="${kubeconfig}" "${KUBECTL}" config set-credentials kuo-bench --client-certificate="${dir}/kuo-bench.crt" \
      --client-key="${dir}/kuo-bench.key" --embed-certs >/dev/null
    KUBECONFIG="${kubeconfig}" "${KUBECTL}" config set-context bench --cluster=local --user=kuo-bench --namespace=default >/dev/null
    KUBECONFIG="${kubeconfig}" "${KUBECTL}" config use-context bench >/dev/null
  fi
  printf '%s\n' "${kubeconfig}"
}
