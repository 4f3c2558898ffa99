#!/usr/bin/env bash
# A PIN counter survives a pcscd restart: the driver hands the emulator the
# reader's state file.  Two private pcscd runs share one state directory.
# usage: ifd_restart.sh IFD_RUN IFD_PCSC
set -euo pipefail
run=$1 pcsc=$2
state=$(mktemp -d "${TMPDIR:-/tmp}/ifd_restart.XXXXXX")
trap 'rm -rf -- "$state"' EXIT
"$run" --state "$state" -- "$pcsc" spend          # tries 3 -> 2
"$run" --state "$state" -- "$pcsc" tries 2        # still 2, then restored
"$run" --state "$state" -- "$pcsc" tries 3
echo ok
