{{/* The chart's name: the label app.kubernetes.io/name. */}}
{{- define "cairn.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The StatefulSet's and client Service's name: the release's, or <release>-cairn. */}}
{{- define "cairn.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The headless Service that names the members: <member>.<this>.<namespace>.svc. */}}
{{- define "cairn.peerServiceName" -}}
{{- printf "%s-peer" (include "cairn.fullname" .) -}}
{{- end -}}

{{/* The labels that select the members: never change them on a release. */}}
{{- define "cairn.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cairn.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cairn.labels" -}}
{{ include "cairn.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
ETCD_INITIAL_CLUSTER: every member by its stable name, one per replica:
<fullname>-0=http://<fullname>-0.<peer service>.$(POD_NAMESPACE).svc:2380,...
$(POD_NAMESPACE) is left for Kubernetes to expand in the container.
*/}}
{{- define "cairn.initialCluster" -}}
{{- $fullname := include "cairn.fullname" . -}}
{{- $peerService := include "cairn.peerServiceName" . -}}
{{- $members := list -}}
{{- range $ordinal := until (int .Values.replicaCount) -}}
{{- $members = append $members (printf "%s-%d=http://%s-%d.%s.$(POD_NAMESPACE).svc:2380" $fullname $ordinal $fullname $ordinal $peerService) -}}
{{- end -}}
{{- join "," $members -}}
{{- end -}}
