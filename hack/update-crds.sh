#!/usr/bin/env bash
# Regenerates crds/ from the Java model (the Quarkus build generates the CRDs). Commit the result;
# CrdDriftIT fails when the committed CRD and the model disagree.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"
./mvnw -B -q -ntp package -DskipTests
cp target/kubernetes/kratosupgrades.kratos-upgrade.io-v1.yml target/kubernetes/kratosfleetupgrades.kratos-upgrade.io-v1.yml crds/
log "crds/ updated"
