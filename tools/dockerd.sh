#!/usr/bin/env bash
# Starts the Docker engine when it is not answering, and stops it again on request.
# Usage: tools/dockerd.sh start|stop|status
#   start  prints "started" when this call started dockerd, "running" when it already ran.
#   stop   stops a dockerd that this script started (pid file below); leaves any other alone.
set -euo pipefail

pidfile=/run/eightfold-dockerd.pid
logfile=/var/log/eightfold-dockerd.log

answering() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

case "${1:-status}" in
  start)
    if answering; then echo "running"; exit 0; fi
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
      systemctl start docker
    else
      command -v dockerd >/dev/null 2>&1 || { echo "error: dockerd not found; install docker.io" >&2; exit 1; }
      nohup dockerd >"$logfile" 2>&1 &
      echo $! >"$pidfile"
    fi
    for _ in $(seq 1 60); do
      if answering; then echo "started"; exit 0; fi
      sleep 1
    done
    echo "error: dockerd did not answer within 60 s; see $logfile" >&2
    exit 1
    ;;
  stop)
    if [[ -f $pidfile ]]; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      rm -f "$pidfile"
    fi
    ;;
  status)
    if answering; then echo "running"; else echo "stopped"; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2; exit 64 ;;
esac
