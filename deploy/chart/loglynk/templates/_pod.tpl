{{/* Root with every capability dropped but DAC_READ_SEARCH: deploy/loglynk/daemonset.yaml says why. */}}
{{- define "loglynk.agentSecurityContext" -}}
runAsUser: 0
runAsNonRoot: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
  add: [DAC_READ_SEARCH]
{{- end }}

{{- define "loglynk.logMounts" -}}
- name: varlogcontainers
  mountPath: /var/log/containers
  readOnly: true
- name: varlogpods
  mountPath: /var/log/pods
  readOnly: true
{{- end }}

{{/* Filebeat's offsets into loglynk's registry, once: --if-absent does nothing when the node's
registry exists (loglynk ran here) or Filebeat's does not. No config is mounted: the built-in
defaults and --state-dir are all it needs, so it holds no Elasticsearch secret. The log mounts are
there because the import checks each file's inode at the path Filebeat recorded. */}}
{{- define "loglynk.importFilebeat" -}}
- name: import-filebeat-registry
  image: {{ include "loglynk.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: [registry, import-filebeat, /var/lib/filebeat-data/registry, --state-dir, /var/lib/loglynk, --if-absent]
  resources:
    requests:
      cpu: 10m
      memory: 32Mi
    limits:
      cpu: 500m
      memory: 64Mi
  securityContext:
    {{- include "loglynk.agentSecurityContext" . | nindent 4 }}
  volumeMounts:
    - name: filebeat-data
      mountPath: /var/lib/filebeat-data
      readOnly: true
    {{- include "loglynk.logMounts" . | nindent 4 }}
    - name: state
      mountPath: /var/lib/loglynk
{{- end }}
