#!/usr/bin/env bash
# Headless Chromium + chromedriver for the connect flow's browser tests (Debian packages).
# Never fails the caller: without them the browser tests skip themselves with a message.
set -uo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
echo "==> Installing Debian packages chromium and chromium-driver (for the browser tests)"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "    Skipped: needs root and apt-get. Browser tests will be skipped." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq >/dev/null && apt-get install -y -qq chromium chromium-driver >/dev/null; then
  echo "    Installed $(chromium --version 2>/dev/null || echo chromium)."
else
  echo "    apt-get could not install them. Browser tests will be skipped." >&2
fi
exit 0
