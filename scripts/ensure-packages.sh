#!/usr/bin/env bash
# Installs from Debian's packages what a Makefile target needs and the machine lacks, with one
# `apt-get update` first. Arguments name what is needed (see PACKAGES_OF below); something
# already there, from Debian or elsewhere (a NodeSource node, say), is left alone.
#   scripts/ensure-packages.sh gettext postgresql redis node chromium xmlsec1
set -euo pipefail

# What each argument installs, in Debian 12's package names.
declare -A PACKAGES_OF=(
  [gettext]="gettext"
  [postgresql]="postgresql"
  [redis]="redis-server"
  [node]="nodejs npm"
  [chromium]="chromium"
  [xmlsec1]="xmlsec1"
  [wrk]="wrk"
  [haproxy]="haproxy"
)

present() {
  case "$1" in
    gettext) command -v msgfmt >/dev/null ;;
    postgresql) compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null ;;
    redis) command -v redis-server >/dev/null && command -v redis-cli >/dev/null ;;
    node) command -v node >/dev/null && command -v npm >/dev/null ;;
    chromium) [ -x /usr/bin/chromium ] ;;
    xmlsec1) command -v xmlsec1 >/dev/null ;;
    wrk) command -v wrk >/dev/null ;;
    haproxy) command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] ;;
  esac
}

missing=()
for need in "$@"; do
  [ -n "${PACKAGES_OF[$need]+set}" ] || { echo "ensure-packages: unknown need '$need'" >&2; exit 2; }
  if ! present "$need"; then
    read -ra packages <<<"${PACKAGES_OF[$need]}"
    missing+=("${packages[@]}")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=$( [ "$(id -u)" -eq 0 ] || echo sudo )
echo "Installing Debian's ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
