# shellcheck shell=bash
# Libraries the front ends build on (checked by cmake/CnieDeps.cmake).
CNIE_BUILD_PACKAGES+=(libp11-kit-dev libopenjp2-7-dev libpng-dev)
