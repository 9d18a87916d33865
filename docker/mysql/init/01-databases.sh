#!/bin/bash
# Creates the MLflow and ZenML databases and their users on the FIRST start of the mysql service
# (the official image runs /docker-entrypoint-initdb.d/* only while the data volume is empty; to
# change a name or password later, alter it in MySQL or `docker compose down -v` the local stack).
#
# A shell script rather than plain SQL so it can read the names and passwords from the container's
# environment (docker-compose.yml passes them from .env). The image either executes this file or
# sources it (when the mount is not executable), so it only defines variables/functions with a
# `_ydb_` prefix, changes shell options only when executed, and never calls `exit` on success.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
fi

_ydb_fail() {
    echo "01-databases.sh: $*" >&2
    exit 1
}

# Names and passwords are put into SQL literals and into the services' connection URIs, so accept
# only characters that need no quoting in either place (URL "unreserved" characters).
_ydb_check() {
    local var="$1" value="${!1:-}"
    [[ -n "$value" ]] || _ydb_fail "$var is not set (define it in .env)"
    [[ "$value" =~ ^[A-Za-z0-9._~-]+$ ]] || _ydb_fail "$var may only contain A-Z a-z 0-9 . _ ~ -"
}

for _ydb_var in MYSQL_ROOT_PASSWORD MLFLOW_DB_NAME MLFLOW_DB_USER MLFLOW_DB_PASSWORD \
    ZENML_DB_NAME ZENML_DB_USER ZENML_DB_PASSWORD; do
    _ydb_check "$_ydb_var"
done
[[ "$MLFLOW_DB_USER" != "$ZENML_DB_USER" ]] || _ydb_fail "MLFLOW_DB_USER and ZENML_DB_USER must differ"

# The root password goes through the environment, not the command line (no `ps` exposure).
MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql --protocol=socket --user=root <<SQL
CREATE DATABASE IF NOT EXISTS \`${MLFLOW_DB_NAME}\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '${MLFLOW_DB_USER}'@'%' IDENTIFIED BY '${MLFLOW_DB_PASSWORD}';
GRANT ALL PRIVILEGES ON \`${MLFLOW_DB_NAME}\`.* TO '${MLFLOW_DB_USER}'@'%';

CREATE DATABASE IF NOT EXISTS \`${ZENML_DB_NAME}\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '${ZENML_DB_USER}'@'%' IDENTIFIED BY '${ZENML_DB_PASSWORD}';
GRANT ALL PRIVILEGES ON \`${ZENML_DB_NAME}\`.* TO '${ZENML_DB_USER}'@'%';

FLUSH PRIVILEGES;
SQL
echo "01-databases.sh: created databases ${MLFLOW_DB_NAME}, ${ZENML_DB_NAME} and their users"
