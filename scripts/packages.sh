# Sourced by scripts/run and scripts/test: installs missing Debian packages.

# Libraries the window opens at run time (no command to look for): GL/EGL with Mesa's drivers,
# and X11's keyboard, cursor and input extensions. The .deb's Depends list the same.
WINDOW_LIBRARIES=(libgl1-mesa-dri libegl1 libgl1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else return 1
  fi
}

# install_missing [COMMAND:PACKAGE …] [-- LIBRARY-PACKAGE …]
# Installs, with apt-get, the package of each command not on PATH and each library package not
# installed. Where that is impossible (not Debian, no root or sudo) it says so and returns 0:
# the caller decides whether a missing piece is fatal.
install_missing() {
  local missing=() arg libraries=""
  for arg in "$@"; do
    if [ "$arg" = -- ]; then libraries=yes
    elif [ -n "$libraries" ]; then dpkg -s "$arg" >/dev/null 2>&1 || missing+=("$arg")
    else command -v "${arg%%:*}" >/dev/null 2>&1 || missing+=("${arg#*:}")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "not a Debian-based system: install the equivalents of ${missing[*]} yourself" >&2
    return 0
  fi
  printf '\n== installing %s\n' "${missing[*]}"
  # containerd and docker.io come with services: the tests start their own, privately, so the
  # packages' must not start (invoke-rc.d asks policy-rc.d; 101 = "not allowed").
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ] && as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'; then
    policy=yes
  fi
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
     || ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    echo "could not install ${missing[*]} (needs root or sudo)" >&2
  fi
  if [ -n "$policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
}
