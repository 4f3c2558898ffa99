# shellcheck shell=bash
# TLS client authentication through NSS with a card key, written once for
# the tests that need it (sourced): tests/browser/firefox_nss.sh (a Firefox
# profile, the contact card) and tests/p11clients/nss_contactless.sh (the
# card on the contactless reader).
#
# tls_client_auth DB NICK PINFILE CA_PEM DIR
#   Starts `openssl s_server` on a free loopback port with a fresh server
#   certificate (trusted in the NSS database DB as "test server"), asking
#   for a client certificate that chains to CA_PEM (-Verify 2
#   -verify_return_error), and connects with NSS's tstclnt from DB as NICK
#   (the card certificate's nickname; PINFILE holds the PIN for NSS's
#   login, may be empty for none).  Returns 0 when the page came back:
#   s_server sends it only after checking the client's certificate against
#   CA_PEM and the handshake signature made with the card's key.  NICK ""
#   connects without a client certificate (the check that the server
#   refuses: returns 1 then).  Logs in DIR (s_server.N.log, tstclnt.N.log);
#   on failure prints their ends.
# TLS_CLIENT_ENV (an array, optional) prefixes tstclnt and certutil, e.g. the
# sanitizer runtime a test preloads into clients (tests/p11clients/common.sh).
# Needs: openssl, certutil, tstclnt, python3.
tls_client_auth() {
  local db=$1 nick=$2 pinfile=$3 ca=$4 dir=$5 port pid n rc=1 args=()
  [ -n "${TLS_CLIENT_ENV+set}" ] || TLS_CLIENT_ENV=(env)
  n=$(find "$dir" -maxdepth 1 -name 's_server.*.log' 2>/dev/null | wc -l)
  if [ ! -f "$dir/srv.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/srv.key" \
      -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" -days 2 \
      -out "$dir/srv.pem" 2>/dev/null || return 2
  fi
  "${TLS_CLIENT_ENV[@]}" certutil -L -d "$db" -n "test server" >/dev/null 2>&1 ||
    "${TLS_CLIENT_ENV[@]}" certutil -A -d "$db" -n "test server" -t "C,," -i "$dir/srv.pem" ||
    return 2
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  openssl s_server -accept "127.0.0.1:$port" -cert "$dir/srv.pem" -key "$dir/srv.key" \
    -Verify 2 -verify_return_error -CAfile "$ca" -naccept 1 -www >"$dir/s_server.$n.log" 2>&1 &
  pid=$!
  # Ready when it says ACCEPT (a probe would use up -naccept).
  for _ in $(seq 100); do grep -q '^ACCEPT' "$dir/s_server.$n.log" && break; sleep 0.1; done
  [ -z "$nick" ] || args+=(-n "$nick")
  [ -z "$pinfile" ] || args+=(-W "$pinfile")
  # The proof is the page (tstclnt's exit status reflects the server
  # closing after it).  tstclnt stays connected after the page (it does not
  # see s_server's close): it is stopped once the page is complete, or after
  # 120 s.
  printf 'GET / HTTP/1.0\r\n\r\n' | timeout 120 "${TLS_CLIENT_ENV[@]}" tstclnt -h 127.0.0.1 -p "$port" -d "$db" \
    "${args[@]}" >"$dir/tstclnt.$n.log" 2>&1 &
  local cpid=$!
  for _ in $(seq 1200); do
    kill -0 "$cpid" 2>/dev/null || break
    grep -q '</HTML>' "$dir/tstclnt.$n.log" 2>/dev/null && break
    sleep 0.1
  done
  kill "$cpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || true
  grep -q '^HTTP/1.0 200' "$dir/tstclnt.$n.log" && grep -q '</HTML>' "$dir/tstclnt.$n.log" && rc=0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$rc" != 0 ] && [ -n "$nick" ]; then
    head -n 12 "$dir/tstclnt.$n.log"; tail -n 5 "$dir/s_server.$n.log"
  fi
  return "$rc"
}
