#!/bin/sh
# deps.sh: make sure the Debian packages minyi builds and tests with are installed.
# As root it runs apt-get; otherwise it prints the exact command and fails.
# Usage: scripts/deps.sh [build|test|check|bench|html|package]   (default: build)
set -eu
what=${1:-build}
pkgs="build-essential pkg-config libzmq3-dev libsqlite3-dev libpcre2-dev libcjson-dev libhyperscan-dev zlib1g-dev libsystemd-dev scdoc libmicrohttpd-dev libsodium-dev"
case "$what" in
  test)  pkgs="$pkgs sqlite3 jq python3-zmq python3-prometheus-client tzdata valgrind chromium fonts-wqy-zenhei mandoc man-db systemd bash-completion curl openssl chromium-driver python3-selenium" ;;
  check) pkgs="$pkgs sqlite3 jq python3-zmq tzdata clang libclang-rt-14-dev" ;;
  bench) pkgs="$pkgs sqlite3 jq bc python3-zmq tzdata" ;;
  html)  pkgs="$pkgs chromium" ;;
  package) pkgs="$pkgs debhelper dpkg-dev fakeroot lintian mandoc man-db adduser" ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "deps.sh: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  stamp=/var/lib/apt/periodic/minyi-update-stamp
  if [ ! -f "$stamp" ] || ! apt-get install -y -qq $missing >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    mkdir -p "$(dirname "$stamp")" && touch "$stamp"
    apt-get install -y -qq $missing >/dev/null
  fi
else
  echo "deps.sh: missing packages:$missing" >&2
  echo "deps.sh: run: sudo apt-get install -y$missing" >&2
  exit 1
fi
