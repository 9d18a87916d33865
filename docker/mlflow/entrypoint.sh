#!/bin/sh
# Entry point of the mlflow-server image: checks the basic-auth settings, then execs the command
# (docker-compose.yml passes `mlflow server ... --app-name basic-auth`).
#
# Clients and the server share one pair of variables: MLFLOW_TRACKING_USERNAME/PASSWORD name the
# admin account that MLflow creates on the first start (MLFLOW_AUTH_ADMIN_* is what MLflow reads;
# values set explicitly win). The ini at MLFLOW_AUTH_CONFIG_PATH holds no credential.
set -eu

fail() {
    echo "mlflow-entrypoint: $*" >&2
    exit 1
}

if [ -n "${MLFLOW_TRACKING_USERNAME:-}" ] && [ -z "${MLFLOW_AUTH_ADMIN_USERNAME:-}" ]; then
    export MLFLOW_AUTH_ADMIN_USERNAME="$MLFLOW_TRACKING_USERNAME"
fi
if [ -n "${MLFLOW_TRACKING_PASSWORD:-}" ] && [ -z "${MLFLOW_AUTH_ADMIN_PASSWORD:-}" ]; then
    export MLFLOW_AUTH_ADMIN_PASSWORD="$MLFLOW_TRACKING_PASSWORD"
fi

case " $* " in
*" --app-name basic-auth "* | *" --app-name=basic-auth "*)
    [ -n "${MLFLOW_AUTH_ADMIN_USERNAME:-}" ] || fail "set MLFLOW_TRACKING_USERNAME (the admin account)"
    [ -n "${MLFLOW_AUTH_ADMIN_PASSWORD:-}" ] || fail "set MLFLOW_TRACKING_PASSWORD (>= 12 characters)"
    [ -n "${MLFLOW_FLASK_SERVER_SECRET_KEY:-}" ] || fail "set MLFLOW_FLASK_SERVER_SECRET_KEY"
    config="${MLFLOW_AUTH_CONFIG_PATH:-}"
    if [ -z "$config" ] || [ ! -r "$config" ]; then
        fail "MLFLOW_AUTH_CONFIG_PATH ($config) is not a readable file"
    fi
    # The SQLite user store must be writable by this (non-root) user, or every login fails later.
    db_file="$(sed -n 's|^database_uri *= *sqlite:///||p' "$config")"
    if [ -n "$db_file" ]; then
        auth_dir="$(dirname "$db_file")"
        if [ ! -d "$auth_dir" ] || [ ! -w "$auth_dir" ]; then
            fail "$auth_dir (user store of $config) must be a writable directory, e.g. a volume"
        fi
    fi
    ;;
esac

exec "$@"
