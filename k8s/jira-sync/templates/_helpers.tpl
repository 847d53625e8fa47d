{{/* Names, labels, the settings TOML and the pieces every component shares. */}}

{{- define "jira-sync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "jira-sync.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The three components, in a fixed order. */}}
{{- define "jira-sync.components" -}}
ingress worker poller
{{- end -}}

{{- define "jira-sync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jira-sync.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "jira-sync.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "jira-sync.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: jira-sync
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "jira-sync.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "jira-sync.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "jira-sync.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* A settings key such as `ingress.listen` as its environment variable. */}}
{{- define "jira-sync.envName" -}}
{{- printf "JIRA_SYNC__%s" (. | replace "." "__" | upper) -}}
{{- end -}}

{{/* One TOML key: bare when it can be, quoted otherwise. */}}
{{- define "jira-sync.toml.key" -}}
{{- if regexMatch "^[A-Za-z0-9_-]+$" . -}}{{ . }}{{- else -}}{{ toJson . }}{{- end -}}
{{- end -}}

{{/*
One TOML value, inline: tables as { k = v }, arrays as [ ... ], scalars as JSON (numbers keep
their integer form, which `toToml` loses: it writes 16 as 16.0).
*/}}
{{- define "jira-sync.toml.value" -}}
{{- if kindIs "map" . -}}
{ {{- $value := . -}}
{{- range $i, $k := keys . | sortAlpha -}}
{{- if $i }}, {{ else }} {{ end -}}
{{ include "jira-sync.toml.key" $k }} = {{ include "jira-sync.toml.value" (index $value $k) }}
{{- end }} }
{{- else if kindIs "slice" . -}}
[{{- range $i, $v := . -}}{{- if $i }}, {{ end -}}{{ include "jira-sync.toml.value" $v }}{{- end -}}]
{{- else -}}
{{ toJson . }}
{{- end -}}
{{- end -}}

{{/*
The settings file. Sections are tables; `endpoints` and `connections` hold one sub-table per id.
Keys whose value is null are left out, so `--set config.x.y=null` restores a compiled-in default.
*/}}
{{- define "jira-sync.settingsToml" -}}
# jira-sync settings rendered by the Helm chart from `.Values.config` (keys of
# libs/settings/src/defaults.toml). Secrets and listen addresses come from the environment.
{{- $config := .Values.config }}
{{- range $section := keys $config | sortAlpha }}
{{- $body := index $config $section }}
{{- if has $section (list "endpoints" "connections") }}
{{- range $id := keys $body | sortAlpha }}
{{- $entry := index $body $id }}

[{{ $section }}.{{ include "jira-sync.toml.key" $id }}]
{{- range $k := keys $entry | sortAlpha }}
{{- $v := index $entry $k }}
{{- if not (kindIs "invalid" $v) }}
{{ include "jira-sync.toml.key" $k }} = {{ include "jira-sync.toml.value" $v }}
{{- end }}
{{- end }}
{{- end }}
{{- else if $body }}

[{{ include "jira-sync.toml.key" $section }}]
{{- range $k := keys $body | sortAlpha }}
{{- $v := index $body $k }}
{{- if not (kindIs "invalid" $v) }}
{{ include "jira-sync.toml.key" $k }} = {{ include "jira-sync.toml.value" $v }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{ end -}}

{{/* Refuses values that would put secrets into the ConfigMap or cannot work. */}}
{{- define "jira-sync.validate" -}}
{{- $config := .Values.config -}}
{{- if (dig "database" "url" nil $config) -}}
{{- fail "config.database.url must not be set: it holds credentials; use secrets.database.url" -}}
{{- end -}}
{{- if (dig "amqp" "url" nil $config) -}}
{{- fail "config.amqp.url must not be set: it holds credentials; use secrets.amqp" -}}
{{- end -}}
{{- range $id, $endpoint := (default dict $config.endpoints) -}}
{{- if not (regexMatch "^[a-z0-9_-]{1,64}$" $id) -}}
{{- fail (printf "config.endpoints.%s: endpoint ids must be lower-case letters, digits, - or _ (they travel through environment variable names)" $id) -}}
{{- end -}}
{{- range $field, $ref := dict "api_token" "apiToken" "api_key" "apiToken" "pat" "pat" "password" "password" -}}
{{- if hasKey $endpoint $field -}}
{{- fail (printf "config.endpoints.%s.%s must not be set: use secrets.endpoints.%s.%s" $id $field $id $ref) -}}
{{- end -}}
{{- end -}}
{{- $webhook := default dict $endpoint.webhook -}}
{{- if or (hasKey $webhook "secret") (hasKey $webhook "key") -}}
{{- fail (printf "config.endpoints.%s.webhook must not hold its secret or key: use secrets.endpoints.%s.webhookSecret" $id $id) -}}
{{- end -}}
{{- $refs := index (default dict $.Values.secrets.endpoints) $id | default dict -}}
{{- if eq (toString $endpoint.kind) "jira_data_center" -}}
{{- if and (not $refs.pat) (not $refs.password) -}}
{{- fail (printf "secrets.endpoints.%s.pat (a personal access token) or .password (with config.endpoints.%s.username) is required for Jira Data Center (a Secret name and key)" $id $id) -}}
{{- end -}}
{{- if and $refs.password (not $refs.pat) (not $endpoint.username) -}}
{{- fail (printf "config.endpoints.%s.username is required with secrets.endpoints.%s.password" $id $id) -}}
{{- end -}}
{{- else if not $refs.apiToken -}}
{{- fail (printf "secrets.endpoints.%s.apiToken is required (a Secret name and key)" $id) -}}
{{- end -}}
{{- if and $endpoint.webhook (not $refs.webhookSecret) -}}
{{- fail (printf "secrets.endpoints.%s.webhookSecret is required: the endpoint has a webhook" $id) -}}
{{- end -}}
{{- end -}}
{{- range $id := keys (default dict .Values.secrets.endpoints) -}}
{{- if not (hasKey (default dict $config.endpoints) $id) -}}
{{- fail (printf "secrets.endpoints.%s names no endpoint of config.endpoints" $id) -}}
{{- end -}}
{{- end -}}
{{- $drain := dig "worker" "drain_timeout" "25s" $config -}}
{{- $drainSeconds := 25 -}}
{{- if regexMatch "^[0-9]+s$" $drain -}}{{- $drainSeconds = trimSuffix "s" $drain | atoi -}}
{{- else if regexMatch "^[0-9]+m$" $drain -}}{{- $drainSeconds = mul (trimSuffix "m" $drain | atoi) 60 -}}
{{- else if regexMatch "^[0-9]+ms$" $drain -}}{{- $drainSeconds = div (trimSuffix "ms" $drain | atoi) 1000 | add1 -}}
{{- else -}}{{- fail (printf "config.worker.drain_timeout %q: write it as <n>ms, <n>s or <n>m" $drain) -}}
{{- end -}}
{{- if and .Values.worker.enabled (le (int .Values.worker.terminationGracePeriodSeconds) (int $drainSeconds)) -}}
{{- fail (printf "worker.terminationGracePeriodSeconds (%v) must be longer than config.worker.drain_timeout (%s)" .Values.worker.terminationGracePeriodSeconds $drain) -}}
{{- end -}}
{{- end -}}

{{/* Environment of every component: config file, listen address, credentials, telemetry. */}}
{{- define "jira-sync.env" -}}
{{- $root := .root -}}
{{- $c := .values -}}
- name: JIRA_SYNC_CONFIG
  value: /etc/jira-sync/jira-sync.toml
- name: {{ include "jira-sync.envName" $c.listenSetting }}
  value: {{ printf "0.0.0.0:%v" $c.port | quote }}
- name: JIRA_SYNC__DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.database.url.name is required" $root.Values.secrets.database.url.name }}
      key: {{ required "secrets.database.url.key is required" $root.Values.secrets.database.url.key }}
{{- $amqp := $root.Values.secrets.amqp }}
{{- if $amqp.credentials.secretName }}
- name: AMQP_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $amqp.credentials.secretName }}
      key: {{ $amqp.credentials.usernameKey }}
- name: AMQP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $amqp.credentials.secretName }}
      key: {{ $amqp.credentials.passwordKey }}
# Kubernetes expands $(AMQP_USERNAME) and $(AMQP_PASSWORD): both are defined above.
- name: JIRA_SYNC__AMQP__URL
  value: {{ printf "%s://$(AMQP_USERNAME):$(AMQP_PASSWORD)@%s:%v/%s" $amqp.credentials.scheme (required "secrets.amqp.credentials.host is required with credentials.secretName" $amqp.credentials.host) $amqp.credentials.port $amqp.credentials.vhost | quote }}
{{- else }}
- name: JIRA_SYNC__AMQP__URL
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.amqp.url.name is required" $amqp.url.name }}
      key: {{ required "secrets.amqp.url.key is required" $amqp.url.key }}
{{- end }}
{{- range $id := keys (default dict $root.Values.config.endpoints) | sortAlpha }}
{{- $endpoint := index $root.Values.config.endpoints $id }}
{{- $refs := index (default dict $root.Values.secrets.endpoints) $id | default dict }}
{{- range $ref, $var := dict "apiToken" "API_TOKEN" "pat" "PAT" "password" "PASSWORD" }}
{{- with index $refs $ref }}
- name: {{ printf "JIRA_SYNC__ENDPOINTS__%s__%s" (upper $id) $var }}
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- if $endpoint.webhook }}
- name: {{ printf "JIRA_SYNC__ENDPOINTS__%s__WEBHOOK__%s" (upper $id) (ternary "KEY" "SECRET" (eq (toString $endpoint.webhook.method) "api_key")) }}
  valueFrom:
    secretKeyRef:
      name: {{ $refs.webhookSecret.name }}
      key: {{ $refs.webhookSecret.key }}
{{- end }}
{{- end }}
{{- if $root.Values.telemetry.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $root.Values.telemetry.otlpEndpoint | quote }}
{{- end }}
{{- with $c.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
