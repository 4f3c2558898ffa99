# Debian 12 packages the project needs, shared by scripts/test and scripts/demo.
# shellcheck shell=bash
CNIE_BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config clang
  libpcsclite-dev libssl-dev libeac-dev libusb-1.0-0-dev libcmocka-dev
  libevent-dev libjansson-dev libassuan-dev libjpeg62-turbo-dev
)
CNIE_RUNTIME_PACKAGES=(
  pcscd pcsc-tools opensc util-linux procps openssl python3
)
# Each component adds what its build and tests need in scripts/deps.d/*.sh
# (CNIE_BUILD_PACKAGES+=(...) / CNIE_RUNTIME_PACKAGES+=(...)).
for _cnie_deps in "$(dirname "${BASH_SOURCE[0]}")"/deps.d/*.sh; do
  # shellcheck disable=SC1090
  [ -e "$_cnie_deps" ] && . "$_cnie_deps"
done
unset _cnie_deps

# cnie_install_missing PKG...: installs what dpkg says is missing (apt-get
# as root, otherwise prints the one command to run and fails).
cnie_install_missing() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing missing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || return 1
    apt-get install -y -qq --no-install-recommends "${missing[@]}" || return 1
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" || return 1
  else
    echo "Missing packages. Run this once, then try again:" >&2
    echo "  sudo apt-get install ${missing[*]}" >&2
    return 1
  fi
}
