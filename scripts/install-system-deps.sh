#!/usr/bin/env bash
# Installs the Debian packages a profile needs, when they are missing and this machine allows it
# (root with apt-get). Anything it cannot install is reported; the tests that need it then fail
# with a message saying what to install.
#   run:  chromium (headless screenshots for the SCREENSHOT and APP_EMAIL job types)
#   test: the above, libquartz2-java (the real Quartz 2.3 jar, judge of the cron engine) and a JDK
set -euo pipefail
profile="${1:-test}"
case "$profile" in
  test) packages=(chromium libquartz2-java default-jdk-headless) ;;
  run) packages=(chromium) ;;
  *) echo "unknown profile: $profile" >&2; exit 2 ;;
esac

missing=()
for pkg in "${packages[@]}"; do
  case "$pkg" in
    default-jdk-headless) command -v javac >/dev/null 2>&1 && continue ;;
    chromium) { command -v chromium || command -v chromium-browser || command -v google-chrome; } >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: missing ${missing[*]} (needs root with apt-get); install them by hand" >&2
  exit 0
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
