#!/usr/bin/env sh
# The browser tests drive Debian's Chromium through playwright-core (no browser download: the
# machine's network reaches only the npm registry and Debian's packages). Install it when missing.
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "warning: chromium is not installed and could not be installed here; the browser tests will fail." >&2
echo "         install Debian's 'chromium' package (apt-get install -y chromium) and run npm test again." >&2
