{{/* The image reference, tag defaulting to the chart's appVersion. */}}
{{- define "loglynk.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "loglynk.labels" -}}
app.kubernetes.io/name: loglynk
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{/* loglynk.yml: deploy/loglynk/loglynk.yml's settings from values, then extraConfig over them. */}}
{{- define "loglynk.config" -}}
{{- $es := dict "hosts" .Values.elasticsearch.hosts "username" .Values.elasticsearch.username "password" "${ELASTICSEARCH_PASSWORD}" -}}
{{- if .Values.elasticsearch.caSecret.name -}}
{{- $_ := set $es "ssl" (dict "certificate_authorities" (list "/mnt/elastic/tls.crt")) -}}
{{- end -}}
{{- $config := dict
  "paths" (list "/var/log/containers/*.log")
  "state_dir" "/var/lib/loglynk"
  "max_queued_bytes" (printf "%dMiB" (int .Values.maxQueuedMiB))
  "kubernetes" (dict "enabled" true "node_name" "${NODE_NAME}" "namespace_labels" true "node_metadata" true)
  "output" (dict "elasticsearch" $es)
  "setup" (dict "enabled" true "mode" "daily" "name" "funlynk-logs")
  "http" (dict "host" "0.0.0.0" "port" 5066)
-}}
{{- toYaml (mustMergeOverwrite $config (deepCopy .Values.extraConfig)) -}}
{{- end }}

{{/* The Secret-held password: every pod that loads loglynk.yml needs it set. */}}
{{- define "loglynk.passwordEnv" -}}
- name: ELASTICSEARCH_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.elasticsearch.passwordSecret.name }}
      key: {{ .Values.elasticsearch.passwordSecret.key }}
{{- end }}

{{- define "loglynk.caVolume" -}}
{{- if .Values.elasticsearch.caSecret.name }}
- name: elasticsearch-ca
  secret:
    secretName: {{ .Values.elasticsearch.caSecret.name }}
    items:
      - key: {{ .Values.elasticsearch.caSecret.key }}
        path: tls.crt
{{- end }}
{{- end }}

{{- define "loglynk.caMount" -}}
{{- if .Values.elasticsearch.caSecret.name }}
- name: elasticsearch-ca
  mountPath: /mnt/elastic
  readOnly: true
{{- end }}
{{- end }}

{{/* Memory in MiB from README's guarantee: 26 MiB + max_queued_bytes + 16 KiB for each of 1,024 open
files + 1.5 MiB and 40 KiB for each of 110 pods, rounded up (+ headroom for the limit). */}}
{{- define "loglynk.memoryRequest" -}}
{{ add 52 .Values.maxQueuedMiB }}Mi
{{- end }}
{{- define "loglynk.memoryLimit" -}}
{{ add 52 .Values.maxQueuedMiB .Values.memoryHeadroomMiB }}Mi
{{- end }}
