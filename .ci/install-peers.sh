#!/usr/bin/env bash
# The interop atlas's peers, from Debian's packages: the clients and reverse proxies users deploy with.
# Idempotent. The proxies are started by the tests, on loopback ports, from generated configs: any service
# a package's install starts is stopped again, so that its default port is free and nothing runs unasked.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(openjdk-17-jdk-headless libokhttp-java golang-go chromium python3-httpx python3-aiohttp python3-requests python3-websockets ruby
  apache2 caddy varnish squid h2o trafficserver lighttpd)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  # No service may start during the install (policy-rc.d exit 101 is Debian's switch for that).
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
for s in apache2 varnish squid caddy h2o trafficserver lighttpd; do service "$s" stop >/dev/null 2>&1 || true; done
pkill -x caddy 2>/dev/null || true
pkill -x h2o 2>/dev/null || true
pkill -x traffic_server 2>/dev/null || true
pkill -x lighttpd 2>/dev/null || true
java -version 2>&1 | sed -n 1p
dpkg-query -W -f='okhttp ${Version}\n' libokhttp-java
go version
chromium --version 2>/dev/null || true
/usr/bin/python3 -c 'import httpx, aiohttp, requests, sys; print("python", sys.version.split()[0], "httpx", httpx.__version__, "aiohttp", aiohttp.__version__, "requests", requests.__version__)'
ruby --version
apache2 -v | sed -n 1p
caddy version
varnishd -V 2>&1 | sed -n 1p
squid -v | sed -n 1p
h2o --version | sed -n 1p
traffic_server --version 2>&1 | sed -n 1p
lighttpd -v
