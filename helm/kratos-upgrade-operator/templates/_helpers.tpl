{{/* Chart name, shortened to the 63 characters a label value allows. */}}
{{- define "kuo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects: the release name when it already contains the chart name
(helm install kratos-upgrade-operator ...), else <release>-<chart>.
*/}}
{{- define "kuo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kuo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object. Never app.kubernetes.io/managed-by=kratos-upgrade-operator: that label marks
the Jobs and pods the operator itself creates (its informers select them by it).
*/}}
{{- define "kuo.labels" -}}
helm.sh/chart: {{ include "kuo.chart" . }}
{{ include "kuo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: kratos-upgrade-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kuo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kuo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kuo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kuo.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kuo.leaseName" -}}
{{- default (include "kuo.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "kuo.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
What the operator does with the API, in every namespace it watches. Keep it equal to the @RBACRule
annotations of KratosUpgradeReconciler plus the KratosUpgrade resources themselves:
src/test/java/io/kratosupgrade/operator/packaging/ChartRenderIT.java fails when they differ.
*/}}
{{- define "kuo.operatorRules" -}}
# The KratosUpgrades: watch, finalizer and status; fleets create one per instance.
- apiGroups: ["kratos-upgrade.io"]
  resources: ["kratosupgrades"]
  verbs: ["get", "list", "watch", "create", "update", "patch"]
- apiGroups: ["kratos-upgrade.io"]
  resources: ["kratosupgrades/status"]
  verbs: ["update", "patch"]
# The KratosFleetUpgrades: watch and status.
- apiGroups: ["kratos-upgrade.io"]
  resources: ["kratosfleetupgrades"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["kratos-upgrade.io"]
  resources: ["kratosfleetupgrades/status"]
  verbs: ["update", "patch"]
# Owner references with blockOwnerDeletion on the operator's Jobs and Secrets.
- apiGroups: ["kratos-upgrade.io"]
  resources: ["kratosupgrades/finalizers"]
  verbs: ["update"]
# The Kratos Deployment: read, and (Managed mode) image and replicas; BlueGreen creates the new side and
# deletes the new side (switch back) or the old one (blueGreen.oldDeployment: Delete).
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "patch", "create", "delete"]
# The Lease that locks a Deployment for one run at a time.
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
# Backup and migration Jobs; Jobs of runs older than the last keptJobRuns are deleted.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
# Job pods (fast failure detection) and Kratos pods (verification).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
# The DSN (get), and the short-lived credentials Secret of a backup Job (create, delete).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "delete"]
# A DSN given through configMapKeyRef or envFrom.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]
# Preflight: the backup volume exists.
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get"]
# Events on KratosUpgrades (get + patch: a repeated event is counted), and the Job controller's
# FailedCreate events (list, watch: a Job whose pod is refused fails its step at once).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "list", "watch", "create", "patch"]
# BlueGreen: the Services that select Kratos's pods, moved from the old side to the new one.
- apiGroups: [""]
  resources: ["services"]
  verbs: ["list", "patch"]
{{- end }}
