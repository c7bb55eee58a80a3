#!/usr/bin/env bash
# Seatkeeper bootstrap.
#   ./start.sh          set up, migrate, load demo data, serve with gunicorn on $PORT (default 8000) and run the worker
#   ./start.sh test     set up, then the whole suite: ruff + pytest (extra args go to pytest)
# On a fresh machine it needs only Python 3.11+ and git.
set -euo pipefail
cd "$(dirname "$0")"

MODE="${1:-serve}"
[ $# -gt 0 ] && shift
VENV=.venv
PY="$VENV/bin/python"

log() { printf '\033[1;34m[start.sh]\033[0m %s\n' "$*" >&2; }

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11+ is required" >&2; exit 1
}

setup_venv() {
  local extras="$1" stamp="$VENV/.installed-$1"
  if [ ! -x "$PY" ]; then
    log "creating $VENV"
    "$(find_python)" -m venv "$VENV"
  fi
  # Reinstall only when pyproject.toml changed since the last install of these extras.
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    log "installing dependencies ($extras)"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -e ".[$extras]"
    touch "$stamp"
  fi
}

load_env_file() {
  if [ ! -f .env ]; then
    cp .env.example .env
    chmod 600 .env
    log "created .env from .env.example"
  fi
  replace_example_secrets
  # Variables already in the environment win over .env.
  while IFS='=' read -r key value; do
    [[ -z "$key" || "$key" =~ ^[[:space:]]*# ]] && continue
    key="${key// /}"
    if [ -z "${!key+x}" ]; then export "$key=$value"; fi
  done < .env
}

# The app refuses the example's secrets outside tests: give .env fresh random ones, once.
replace_example_secrets() {
  local key example current
  for key in JWT_SECRET_KEY SEED_ADMIN_PASSWORD POSTGRES_PASSWORD; do
    example="$(sed -n "s/^$key=//p" .env.example)"
    current="$(sed -n "s/^$key=//p" .env)"
    if grep -q "^$key=" .env && [ "$current" != "$example" ]; then continue; fi
    local secret
    secret="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')"
    { grep -v "^$key=" .env || true; echo "$key=$secret"; } > .env.new && mv .env.new .env
    chmod 600 .env
    log "wrote a fresh random $key to .env"
  done
}

# The app and alembic normalise too; doing it here fails early on a URL that is not PostgreSQL.
normalize_database_url() {
  DATABASE_URL="$("$PY" -c 'import os; from api.config import normalize_database_url as n; print(n(os.environ["DATABASE_URL"]))')"
  export DATABASE_URL
}

EMBEDDED_PG=""
choose_database() {
  if [ -n "${DATABASE_URL:-}" ]; then
    log "database: DATABASE_URL"
  elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    log "database: Docker Compose (postgres:16)"
    # Compose requires the production secrets in every service's definition; the db needs none of Stripe's.
    STRIPE_SECRET_KEY="${STRIPE_SECRET_KEY:-unused-by-db}" STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-unused-by-db}" \
      docker compose up -d --wait db
    export DATABASE_URL="postgresql://postgres:${POSTGRES_PASSWORD}@127.0.0.1:${POSTGRES_PORT:-5432}/seatkeeper"
  else
    log "database: embedded PostgreSQL in .pgdata/ (pgserver)"
    DATABASE_URL="$("$PY" -m api.embedded_pg start)"
    export DATABASE_URL
    EMBEDDED_PG=1
  fi
  normalize_database_url
}

GUNICORN_PID=""
WORKER_PID=""
shutdown() {
  trap - INT TERM EXIT
  if [ -n "$WORKER_PID" ] && kill -0 "$WORKER_PID" 2>/dev/null; then
    log "stopping the worker"
    kill -TERM "$WORKER_PID" 2>/dev/null || true
    wait "$WORKER_PID" 2>/dev/null || true
  fi
  if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    log "stopping gunicorn"
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    wait "$GUNICORN_PID" 2>/dev/null || true
  fi
  if [ -n "$EMBEDDED_PG" ]; then
    log "stopping embedded PostgreSQL"
    "$PY" -m api.embedded_pg stop || true
  fi
}

serve() {
  setup_venv server
  local explicit_storage="${RATELIMIT_STORAGE_URI:-}"
  load_env_file
  # REDIS_URL wins over .env's memory:// default; a RATELIMIT_STORAGE_URI from the real environment wins over both.
  if [ -z "$explicit_storage" ] && [ -n "${REDIS_URL:-}" ]; then export RATELIMIT_STORAGE_URI="$REDIS_URL"; fi
  export SEED_DEMO="${SEED_DEMO:-true}"
  local workers="${WEB_CONCURRENCY:-4}" threads=1
  # memory:// counts per process (the app refuses it with several): without Redis, one process with threads.
  if [[ "${RATELIMIT_STORAGE_URI:-memory://}" == memory://* ]] && [ "$workers" -gt 1 ]; then
    log "rate limits in memory (no REDIS_URL): 1 gunicorn process x $workers threads; set REDIS_URL for $workers processes"
    threads="$workers"
    workers=1
  fi
  export WEB_CONCURRENCY="$workers"
  choose_database
  trap shutdown EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  log "migrating"
  "$PY" -m alembic upgrade head
  log "loading demo data"
  "$PY" -m flask --app wsgi seed
  local port="${PORT:-8000}"
  "$PY" -m gunicorn wsgi:app --bind "0.0.0.0:$port" --workers "$workers" --threads "$threads" \
    --graceful-timeout 10 &
  GUNICORN_PID=$!
  # The background worker: outbox emails, hold purge, status automation, payment reconciliation.
  "$PY" -m flask --app wsgi worker &
  WORKER_PID=$!
  for _ in $(seq 1 100); do
    if "$PY" -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1).status != 200)" 2>/dev/null; then
      log "Seatkeeper is up:"
      log "  website    http://localhost:$port/   (Café Fausse: menu, reservations, about, gallery)"
      log "  staff      http://localhost:$port/staff/   (console: sign in with a staff or admin account)"
      log "  API        http://localhost:$port/api"
      log "  health     http://localhost:$port/health"
      log "  API docs   http://localhost:$port/docs   (spec: /openapi.json)"
      log "  worker     emails and periodic jobs (pid $WORKER_PID; mail to ${SMTP_HOST:-localhost}:${SMTP_PORT:-1025})"
      log "Ctrl-C stops the server, the worker${EMBEDDED_PG:+ and the embedded database}."
      wait "$GUNICORN_PID"
      return
    fi
    kill -0 "$GUNICORN_PID" 2>/dev/null || { log "gunicorn exited"; exit 1; }
    sleep 0.2
  done
  log "gunicorn did not answer /health in time"; exit 1
}

run_tests() {
  setup_venv test
  log "ruff"
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  log "pytest"
  # Tests make their own databases (embedded PostgreSQL, or TEST_DATABASE_URL); .env is not read.
  "$PY" -m pytest "$@"
}

case "$MODE" in
  serve) serve ;;
  test) run_tests "$@" ;;
  *) echo "usage: ./start.sh [test [pytest args...]]" >&2; exit 2 ;;
esac
