#!/usr/bin/env bash
# The throughput benchmark's load generator: wrk, from Debian's packages.
set -euo pipefail
if ! command -v wrk >/dev/null; then
  echo "Installing Debian's wrk"
  sudo=$( [ "$(id -u)" -eq 0 ] || echo sudo )
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
