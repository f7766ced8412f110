# shellcheck shell=bash
# The secrets of every deployment this machine launches (docs/SECURITY.md): the Redis passwords, the
# control-plane key that proves the LB's leader messages, and the admin token of PUT /lb/size.
# Sourced by local-env.sh, compose-env.sh, kind-env.sh and the end-to-end test, not run. The caller
# sets $repo and defines die.
# shellcheck disable=SC2154  # $repo is the caller's
#
# One env file, outside the repository, mode 0600: $CONSULT_DB_SECRETS_FILE, by default
# ${XDG_CONFIG_HOME:-~/.config}/consult-db/secrets.env. The first launch creates it with random
# secrets; later launches reuse it, and add a secret that a newer version needs. Nothing here prints
# a secret or puts one on a command line.

secrets_file=${CONSULT_DB_SECRETS_FILE:-${XDG_CONFIG_HOME:-$HOME/.config}/consult-db/secrets.env}
redis_secret_names=(REDIS_DATA_PASSWORD REDIS_COORDINATOR_PASSWORD REDIS_REPLICATION_PASSWORD)
secret_names=("${redis_secret_names[@]}" CONTROL_PLANE_KEY ADMIN_TOKEN)
# The rule of docker/redis-run and of the services' configuration (which wants 32 characters at least
# of the key and the token; every generated value has 64).
secret_pattern='[A-Za-z0-9._~+/=-]{16,256}'

# 64 hexadecimal digits: 256 bits from the kernel's generator.
random_password() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

check_secrets() {
  local mode name
  mode=$(stat -c %a "$secrets_file")
  [[ -O $secrets_file ]] || die "$secrets_file belongs to another user; remove it or set CONSULT_DB_SECRETS_FILE"
  (( (8#$mode & 8#077) == 0 )) || die "$secrets_file has mode $mode: anyone on this machine may read it; run chmod 600 on it"
  for name in "${secret_names[@]}"; do
    grep -Eq "^$name=$secret_pattern\$" "$secrets_file" ||
      die "$secrets_file has no valid $name (16 to 256 of A-Z a-z 0-9 - _ . ~ + / =); fix it, or remove the file and relaunch (docs/SECURITY.md)"
  done
}

# Adds a random value for each secret the file lacks (a file from an older version), atomically.
add_missing_secrets() {
  local name temp missing=()
  for name in "${secret_names[@]}"; do grep -q "^$name=" "$secrets_file" || missing+=("$name"); done
  (( ${#missing[@]} )) || return 0
  temp=$(umask 077 && mktemp "$(dirname "$secrets_file")/.secrets.env.XXXXXX")
  cat "$secrets_file" >"$temp"
  for name in "${missing[@]}"; do printf '%s=%s\n' "$name" "$(random_password)"; done >>"$temp"
  mv "$temp" "$secrets_file"
  echo "Added ${missing[*]} to $secrets_file (docs/SECURITY.md)."
}

# Creates the file when absent (atomically: a half-written file is never used), then checks it.
ensure_secrets() {
  local dir real_dir temp name
  dir=$(dirname "$secrets_file")
  (umask 077 && mkdir -p "$dir")
  real_dir=$(cd "$dir" && pwd -P)
  [[ $real_dir/ == "$(cd "$repo" && pwd -P)"/* ]] &&
    die "the secrets file $secrets_file is inside the repository; set CONSULT_DB_SECRETS_FILE to a path outside it"
  if [[ ! -e $secrets_file ]]; then
    temp=$(umask 077 && mktemp "$dir/.secrets.env.XXXXXX")
    for name in "${secret_names[@]}"; do printf '%s=%s\n' "$name" "$(random_password)"; done >"$temp"
    mv "$temp" "$secrets_file"
    echo "Created the secrets in $secrets_file (mode 0600; docs/SECURITY.md)."
  fi
  add_missing_secrets
  check_secrets
}

# export_secrets NAME...: exports those secrets from the file, for a process about to start.
export_secrets() {
  local name
  for name in "$@"; do
    declare -gx "$name=$(sed -n "s/^$name=//p" "$secrets_file")"
  done
}
