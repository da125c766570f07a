{{/* The name of one of the release's objects: <release>-<component>. */}}
{{- define "tierdesk.name" -}}
{{- printf "%s-%s" .root.Release.Name .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries; `component` names the part (intake, tier1-queue, ...). */}}
{{- define "tierdesk.labels" -}}
app.kubernetes.io/name: tierdesk
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* What selects a component's pods. */}}
{{- define "tierdesk.selector" -}}
app.kubernetes.io/name: tierdesk
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tierdesk.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The database's host for the services: the PgBouncer pooler, the primary, or the external server. */}}
{{- define "tierdesk.databaseHost" -}}
{{- if .Values.database.cloudnativepg.enabled -}}
{{- if .Values.database.cloudnativepg.pooler.enabled -}}
{{- printf "%s-db-pooler-rw" .Release.Name -}}
{{- else -}}
{{- printf "%s-db-rw" .Release.Name -}}
{{- end -}}
{{- else -}}
{{- required "database.external.host is required without CloudNativePG" .Values.database.external.host -}}
{{- end -}}
{{- end -}}

{{/* The primary itself, for the migration (DDL and advisory locks never go through a pooler). */}}
{{- define "tierdesk.databaseDirectHost" -}}
{{- if .Values.database.cloudnativepg.enabled -}}
{{- printf "%s-db-rw" .Release.Name -}}
{{- else -}}
{{- required "database.external.host is required without CloudNativePG" .Values.database.external.host -}}
{{- end -}}
{{- end -}}

{{- define "tierdesk.databasePort" -}}
{{- if .Values.database.cloudnativepg.enabled -}}5432{{- else -}}{{ .Values.database.external.port }}{{- end -}}
{{- end -}}

{{/* The peers' URLs and what every server reads that is no credential. */}}
{{- define "tierdesk.serverEnv" -}}
- name: TIERDESK_HOST
  value: "0.0.0.0"
- name: TIERDESK_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
- name: TIERDESK_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: TIERDESK_INTAKE_URL
  value: {{ printf "http://%s-intake:8080" .Release.Name | quote }}
- name: TIERDESK_TRIAGE_URL
  value: {{ printf "http://%s-triage:8081" .Release.Name | quote }}
- name: TIERDESK_TIER_QUEUE_URL
  value: {{ printf "http://%s-tier-queue:8082" .Release.Name | quote }}
{{- range .Values.tierQueue.levels }}
- name: {{ printf "TIERDESK_TIER%d_QUEUE_URL" (int .) }}
  value: {{ printf "http://%s-tier%d-queue:8082" $.Release.Name (int .) | quote }}
{{- end }}
- name: TIERDESK_VENDOR_BRIDGE_URL
  value: {{ printf "http://%s-vendor-bridge:8083" .Release.Name | quote }}
{{- end -}}

{{/* What the four services read besides: the internal token (a file), the trusted proxies, the pool. */}}
{{- define "tierdesk.serviceEnv" -}}
{{ include "tierdesk.serverEnv" . }}
- name: TIERDESK_INTERNAL_TOKEN_FILE
  value: /run/secrets/tierdesk/internal_token
- name: TIERDESK_TRUSTED_PROXIES
  value: {{ .Values.trustedProxies | quote }}
- name: TIERDESK_DATABASE_POOL_SIZE
  value: {{ .Values.databasePoolSize | quote }}
{{- end -}}

{{/* Mail out, for intake and the tier-queues. */}}
{{- define "tierdesk.mailEnv" -}}
- name: TIERDESK_SMTP_HOST
  value: {{ .Values.smtp.host | quote }}
- name: TIERDESK_SMTP_PORT
  value: {{ .Values.smtp.port | quote }}
- name: TIERDESK_SMTP_TLS
  value: {{ .Values.smtp.tls | quote }}
- name: TIERDESK_SMTP_USER
  value: {{ .Values.smtp.user | quote }}
- name: TIERDESK_SMTP_PASSWORD_FILE
  value: /run/secrets/tierdesk/smtp_password
- name: TIERDESK_SMTP_FROM
  value: {{ .Values.smtp.from | quote }}
- name: TIERDESK_MAIL_REPLY_DOMAIN
  value: {{ .Values.smtp.replyDomain | quote }}
- name: TIERDESK_PUBLIC_URL
  value: {{ .Values.publicURL | quote }}
{{- end -}}

{{/* A service's own database role and where its password is. */}}
{{- define "tierdesk.databaseEnv" -}}
- name: TIERDESK_DATABASE_URL
  value: {{ printf "postgres://%s@%s:%s/%s" .role (include "tierdesk.databaseHost" .root) (include "tierdesk.databasePort" .root) .root.Values.database.name | quote }}
- name: TIERDESK_DATABASE_PASSWORD_FILE
  value: {{ printf "/run/secrets/tierdesk/%s" .passwordKey | quote }}
{{- end -}}

{{/*
One Tierdesk server: a Deployment (its replicas left to KEDA when `scaled`), its Service, its
PodDisruptionBudget. Arguments: root, component, executable, port, env (rendered list), keys (the
secret's keys it mounts), replicas, scaled.
*/}}
{{- define "tierdesk.server" -}}
{{- $root := .root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "tierdesk.name" . }}
  labels:
    {{- include "tierdesk.labels" . | nindent 4 }}
    tierdesk.dev/role: server
spec:
  {{- if not .scaled }}
  replicas: {{ .replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "tierdesk.selector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "tierdesk.selector" . | nindent 8 }}
        tierdesk.dev/role: server
        {{- if .level }}
        tierdesk.dev/tier-queue: "true"
        {{- end }}
    spec:
      automountServiceAccountToken: false
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: 30
      containers:
        - name: {{ .component }}
          image: {{ include "tierdesk.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: [{{ printf "./%s" .executable | quote }}]
          ports:
            - name: http
              containerPort: {{ .port }}
          env:
            - name: TIERDESK_PORT
              value: {{ .port | quote }}
            {{- .env | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /health/ready
              port: http
            periodSeconds: 5
            failureThreshold: 3
          livenessProbe:
            httpGet:
              path: /health/live
              port: http
            initialDelaySeconds: 10
            periodSeconds: 10
            failureThreshold: 6
          startupProbe:
            httpGet:
              path: /health/live
              port: http
            periodSeconds: 2
            failureThreshold: 60
          resources:
            {{- toYaml $root.Values.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: secrets
              mountPath: /run/secrets/tierdesk
              readOnly: true
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: secrets
          secret:
            secretName: {{ $root.Values.secrets.existingSecret }}
            defaultMode: 0440
            items:
              {{- range .keys }}
              - key: {{ . }}
                path: {{ . }}
              {{- end }}
        - name: tmp
          emptyDir: {}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "tierdesk.name" . }}
  labels:
    {{- include "tierdesk.labels" . | nindent 4 }}
spec:
  selector:
    {{- include "tierdesk.selector" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: http
{{- if $root.Values.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "tierdesk.name" . }}
  labels:
    {{- include "tierdesk.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ $root.Values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "tierdesk.selector" . | nindent 6 }}
{{- end }}
{{- end -}}
