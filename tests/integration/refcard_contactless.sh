#!/usr/bin/env bash
# Inside with-pcscd --virtual: puts the EC card on the (empty) contactless
# reader with cnie-sim, then runs the contactless flow through pcscd.
set -euo pipefail
sim=$1 flow=$2 cards=$3
"$sim" --reader 1 insert "$cards/ec"
exec "$flow" pcsc "Virtual Contactless" "$cards/pki" contactless
