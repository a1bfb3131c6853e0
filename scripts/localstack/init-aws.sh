#!/usr/bin/env bash
# LocalStack "ready" hook: creates Zixly's AWS resources (SQS jobs queue + DLQ, results
# bucket, app secret) in LocalStack by applying terraform/environments/local.
#
# In docker-compose.pipeline.yml (profile "aws") this folder is mounted at
# /etc/localstack/init/ready.d and the repository's terraform/ at /opt/zixly/terraform, so
# LocalStack runs this once it serves requests. The compose healthcheck of the localstack
# service waits for the file this script touches last ($ZIXLY_READY_FILE), so the apps only
# start once the resources exist.
#
# From a checkout, against a LocalStack already running on the host:
#   LOCALSTACK_ENDPOINT=http://localhost:4566 ZIXLY_ENCRYPTION_KEY=... ZIXLY_ADMIN_TOKEN=... \
#     scripts/localstack/init-aws.sh
#
# Terraform: uses $TF_BIN if set (e.g. TF_BIN=tflocal), else `terraform` from PATH, else
# downloads terraform $TERRAFORM_VERSION from releases.hashicorp.com (checked against the
# release's SHA256SUMS) into $ZIXLY_CACHE_DIR. The provider block of
# terraform/environments/local already points every endpoint at LocalStack, so plain
# terraform is enough; tflocal works too.
#
# The secret's content comes from this process's environment (compose passes your .env):
# ZIXLY_ENCRYPTION_KEY, ZIXLY_ADMIN_TOKEN and any {XERO,HUBSPOT,SHOPIFY,ASANA}_CLIENT_{ID,SECRET},
# or TF_VAR_secret_values as a JSON object. Nothing secret is written to the repository.
#
# Variables (all optional):
#   LOCALSTACK_ENDPOINT   LocalStack's URL from here             (http://localhost:4566)
#   ZIXLY_TERRAFORM_DIR   the terraform/ tree                    (/opt/zixly/terraform, else ../../terraform)
#   ZIXLY_TF_WORKDIR      copy of the tree terraform runs in    (/tmp/zixly-terraform)
#   ZIXLY_CACHE_DIR       terraform binary and provider cache   (/var/lib/localstack/zixly-cache, else /tmp)
#   ZIXLY_APP_ENV_FILE    where `terraform output app_env` goes  (<workdir>/app.env)
#   ZIXLY_READY_FILE      touched when everything is applied    (/tmp/zixly-aws-ready)
#   TERRAFORM_VERSION     version to download if none is found  (1.9.8)
set -euo pipefail

log() { printf '[zixly init-aws] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
endpoint="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
terraform_version="${TERRAFORM_VERSION:-1.9.8}"
ready_file="${ZIXLY_READY_FILE:-/tmp/zixly-aws-ready}"
rm -f "$ready_file"

src="${ZIXLY_TERRAFORM_DIR:-}"
if [ -z "$src" ]; then
  if [ -d /opt/zixly/terraform ]; then src=/opt/zixly/terraform; else src="$script_dir/../../terraform"; fi
fi
[ -f "$src/environments/local/main.tf" ] || die "no terraform/environments/local under $src (set ZIXLY_TERRAFORM_DIR)"

cache_dir="${ZIXLY_CACHE_DIR:-}"
if [ -z "$cache_dir" ]; then
  if [ -d /var/lib/localstack ] && [ -w /var/lib/localstack ]; then cache_dir=/var/lib/localstack/zixly-cache; else cache_dir=/tmp/zixly-cache; fi
fi
mkdir -p "$cache_dir/plugins"

download() { # url file
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1"
  else
    python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$2"
  fi
}

install_terraform() { # prints the path of a terraform binary
  local os arch dir tmp zip
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) die "unsupported OS $(uname -s)" ;; esac
  case "$(uname -m)" in x86_64 | amd64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) die "unsupported CPU $(uname -m)" ;; esac
  dir="$cache_dir/terraform-$terraform_version-$os-$arch"
  if [ ! -x "$dir/terraform" ]; then
    zip="terraform_${terraform_version}_${os}_${arch}.zip"
    tmp="$(mktemp -d)"
    log "downloading terraform $terraform_version ($os/$arch)"
    download "https://releases.hashicorp.com/terraform/$terraform_version/$zip" "$tmp/$zip"
    download "https://releases.hashicorp.com/terraform/$terraform_version/terraform_${terraform_version}_SHA256SUMS" "$tmp/SHA256SUMS"
    grep " $zip\$" "$tmp/SHA256SUMS" >"$tmp/expected" || die "$zip is not in the release's SHA256SUMS"
    if command -v sha256sum >/dev/null 2>&1; then
      (cd "$tmp" && sha256sum -c expected >&2) || die "checksum mismatch for $zip"
    else
      (cd "$tmp" && shasum -a 256 -c expected >&2) || die "checksum mismatch for $zip"
    fi
    mkdir -p "$dir"
    python3 -m zipfile -e "$tmp/$zip" "$dir"
    chmod +x "$dir/terraform"
    rm -rf "$tmp"
  fi
  printf '%s\n' "$dir/terraform"
}

tf="${TF_BIN:-}"
if [ -z "$tf" ]; then
  if command -v terraform >/dev/null 2>&1; then tf=terraform; else tf="$(install_terraform)"; fi
fi

# The secret's content, as a JSON object keyed by the app's variable names.
if [ -z "${TF_VAR_secret_values:-}" ]; then
  TF_VAR_secret_values="$(python3 - <<'PY'
import json, os, re
names = ["ZIXLY_ENCRYPTION_KEY", "ZIXLY_ADMIN_TOKEN"] + sorted(
    k for k in os.environ if re.fullmatch(r"(XERO|HUBSPOT|SHOPIFY|ASANA)_CLIENT_(ID|SECRET)", k)
)
print(json.dumps({k: os.environ[k] for k in names if os.environ.get(k)}))
PY
)"
  export TF_VAR_secret_values
fi
[ "$TF_VAR_secret_values" != "{}" ] || die "no secret values: set ZIXLY_ENCRYPTION_KEY and ZIXLY_ADMIN_TOKEN (your .env) or TF_VAR_secret_values"

# Run in a copy: the mounted tree is read-only, and state must not land in the checkout.
workdir="${ZIXLY_TF_WORKDIR:-/tmp/zixly-terraform}"
mkdir -p "$workdir"
cp -R "$src/modules" "$src/environments" "$workdir/"
env_dir="$workdir/environments/local"

export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1 TF_PLUGIN_CACHE_DIR="$cache_dir/plugins"
log "applying terraform/environments/local against $endpoint with $tf"
"$tf" -chdir="$env_dir" init -input=false -no-color >&2
"$tf" -chdir="$env_dir" apply -input=false -auto-approve -no-color -var "localstack_endpoint=$endpoint" >&2

app_env_file="${ZIXLY_APP_ENV_FILE:-$workdir/app.env}"
"$tf" -chdir="$env_dir" output -json app_env |
  python3 -c 'import json, sys; print("\n".join(f"{k}={v}" for k, v in sorted(json.load(sys.stdin).items())))' >"$app_env_file"
log "app configuration (terraform output app_env), also in $app_env_file:"
sed 's/^/    /' "$app_env_file" >&2

touch "$ready_file"
log "done"
