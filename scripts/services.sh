#!/usr/bin/env bash
# Start PostgreSQL, Redis and RabbitMQ for the test suite when they are down (commands from the
# machine's env notes), then make sure the database role can create test databases. The grading
# fault suite runs its workers over RabbitMQ too (a vhost of its own: TEST_RABBITMQ_URL).
source "$(dirname "$0")/lib.sh"

pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
redis_up() { [ "$( (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c5 <&3) 2>/dev/null)" = "+PONG" ]; }

if ! pg_up; then
  log "PostgreSQL is down: starting it"
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
  else
    ensure_system_packages postgresql
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || die "PostgreSQL did not come up on 127.0.0.1:5432"
fi

if ! redis_up; then
  log "Redis is down: starting it"
  command -v redis-server >/dev/null || ensure_system_packages redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
  redis_up || die "Redis did not come up on 127.0.0.1:6379"
fi

if ! rabbit_up; then
  log "RabbitMQ is down: starting it"
  command -v rabbitmq-server >/dev/null || ensure_system_packages rabbitmq-server
  rabbitmq-server -detached || true
  for _ in $(seq 1 60); do rabbit_up && break; sleep 1; done
  rabbit_up || die "RabbitMQ did not come up on 127.0.0.1:5672"
  # Accepting connections comes before answering rabbitmqctl, which the fault suite uses.
  for _ in $(seq 1 60); do rabbitmqctl -q status >/dev/null 2>&1 && break; sleep 1; done
fi
