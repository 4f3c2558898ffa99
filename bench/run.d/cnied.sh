# shellcheck shell=bash
# cnied, the local HTTPS bridge, on the in-process reference card with the
# emulator's timing model on (CNIE_EMU_TIMING, the figures of bench_card.c:
# 5 ms per APDU, T=1 at 115200 bit/s, EC 80 ms, RSA 150 ms, PACE 40 ms) and
# the scripted pinentry (tests/harness/pinentry-script):
#   status     GET /v1/status with wrk over TLS keep-alive: requests/s, p99
#   status+sign  the same while signatures run back to back: p99
#   authenticate  latency (one client, keep-alive) vs the card floor: the
#              fewest APDUs an authentication needs (VERIFY, MSE:SET DST,
#              PSO:CDS; card-profile.md 3) under the timing model + one EC
#              key operation; goal <= 1.15x
#   fairness   a real request's p99 (new connection each: accept, TLS,
#              status) while 2000 idle connections and 64 event streams
#              (16 per origin, 4 origins) are held; goal < 50 ms
#   idle       CPU ticks used over 60 s with nothing to do (goal 0: no
#              polling) and RSS (goal <= 8 MiB)
# Sourced by bench/run with $here and $build set.  Prints figures only.
echo "== bench: cnied (HTTPS bridge, reference card, timing model on)"
if [ ! -x "$build/src/cnied/cnied" ] || ! command -v wrk >/dev/null; then
  echo "  cnied or wrk not available: skipped"
else
  (
  set -u
  tmp=$(mktemp -d)
  trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
  cp -r "$build/cards/ec" "$tmp/card"
  export CNIE_EMU_TIMING=${CNIE_EMU_TIMING:-5000,115200,150000,80000,40000}
  export PINENTRY_SCRIPT_PIN=1234 CNIE_NO_CACHE=1 XDG_CONFIG_HOME=$tmp
  origin=https://bench.example
  "$build/src/cnied/cnied" --foreground --reference-card="$tmp/card" --listen 127.0.0.1:0 \
    --allow-origin $origin --allow-origin https://b2.example --allow-origin https://b3.example \
    --allow-origin https://b4.example --pinentry "$here/tests/harness/pinentry-script" \
    --state-dir "$tmp/state" 2>"$tmp/log" &
  pid=$!
  for _ in $(seq 100); do [ -s "$tmp/state/cnied.port" ] && break; sleep 0.05; done
  port=$(head -1 "$tmp/state/cnied.port" | cut -d: -f2)
  url=https://127.0.0.1:$port/v1/status
  echo "-- /v1/status, wrk 2 threads x 32 keep-alive connections, 5 s"
  wrk -t2 -c32 -d5s --latency -H "Host: 127.0.0.1:$port" "$url" |
    awk '/Requests\/sec/ {print "  requests/s: " $2} / 50%/ {print "  p50: " $2} / 99%/ {print "  p99: " $2}'
  echo "-- /v1/status while signatures run back to back (each: consent + PIN + card)"
  python3 - "$port" "$tmp/state/ca.pem" "$origin" 8 > "$tmp/sign.out" <<'PY' &
import base64, hashlib, http.client, json, ssl, sys, time
port, ca, origin, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=120)
h = {"Origin": origin, "Content-Type": "application/json", "Host": "127.0.0.1:%d" % port}
c.request("POST", "/v1/certificate", json.dumps({"type": "sign"}), h)
cert = json.loads(c.getresponse().read())["certificate"]
body = json.dumps({"certificate": cert, "hashFunction": "SHA-256",
                   "hash": base64.b64encode(hashlib.sha256(b"doc").digest()).decode()})
t0 = time.time(); ok = 0
for _ in range(n):
    c.request("POST", "/v1/sign", body, h)
    r = c.getresponse(); r.read(); ok += r.status == 200
print("  signatures: %d/%d ok, %.0f ms each" % (ok, n, (time.time() - t0) * 1000 / n))
PY
  spid=$!
  sleep 0.3
  wrk -t2 -c32 -d3s --latency -H "Host: 127.0.0.1:$port" "$url" |
    awk '/Requests\/sec/ {print "  requests/s: " $2} / 99%/ {print "  p99 during signatures: " $2}'
  wait $spid
  cat "$tmp/sign.out"
  echo "-- /v1/authenticate latency (20 sequential, keep-alive) vs card floor"
  python3 - "$port" "$tmp/state/ca.pem" "$origin" 20 "$CNIE_EMU_TIMING" \
    "$here/tests/harness/pinentry-script" <<'PY'
import base64, http.client, json, os, ssl, statistics, subprocess, sys, time
port, ca, origin, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
lat, bps, rsa, ec, pace = (int(x) for x in sys.argv[5].split(","))
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=120)
h = {"Origin": origin, "Content-Type": "application/json", "Host": "127.0.0.1:%d" % port}
times = []
for i in range(n + 1):
    body = json.dumps({"challengeNonce": base64.b64encode(os.urandom(32)).decode()})
    t0 = time.perf_counter()
    c.request("POST", "/v1/authenticate", body, h)
    r = c.getresponse(); r.read()
    if r.status != 200:
        print("  authenticate failed: %d" % r.status); sys.exit(0)
    if i:  # the first one opens the card (PKCS#15 discovery)
        times.append((time.perf_counter() - t0) * 1000)
# Floor: VERIFY (4+1+12 / 2), MSE:SET DST (4+1+6 / 2), PSO:CDS (4+1+32+1 / 64+2) bytes.
apdus = [(17, 2), (11, 2), (38, 66)]
floor = sum(lat / 1000 + (a + b) * 8 * 1000 / bps for a, b in apdus) + ec / 1000
med = statistics.median(times)
print("  authenticate: median %.1f ms, p90 %.1f ms, min %.1f ms (n=%d)"
      % (med, sorted(times)[int(n * 0.9) - 1], min(times), n))
# The scripted pinentry (a bash process per dialog) alone, same dialogue.
dialog = (b"SETTIMEOUT 120\nSETTITLE CNIE card PIN\nSETDESC " + origin.encode() +
          b" wants to log you in with your CNIE card.%0A(3 tries left)\nSETPROMPT PIN:\n"
          b"GETPIN\nBYE\n")
pe = []
for _ in range(10):
    t0 = time.perf_counter()
    subprocess.run([sys.argv[6]], input=dialog, capture_output=True)
    pe.append((time.perf_counter() - t0) * 1000)
pem = statistics.median(pe)
print("  card floor: %.1f ms (3 APDUs + 1 EC key op)   measured/floor: %.2fx" % (floor, med / floor))
print("  scripted pinentry dialog alone: %.1f ms; authenticate without it: %.1f ms = %.2fx floor"
      "   goal <= 1.15x" % (pem, med - pem, (med - pem) / floor))
PY
  echo "-- fairness: 2000 idle connections + 64 event streams held, a real request's latency"
  python3 - "$port" "$tmp/state/ca.pem" "$origin" <<'PY'
import resource, socket, ssl, statistics, sys, time
port, ca, origin = int(sys.argv[1]), sys.argv[2], sys.argv[3]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
ctx = ssl.create_default_context(cafile=ca)
def tls():
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                           server_hostname="127.0.0.1")
streams = []
for o in (origin, "https://b2.example", "https://b3.example", "https://b4.example"):
    for _ in range(16):
        t = tls()
        t.sendall(("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n\r\n"
                   % (port, o)).encode())
        t.recv(4096)
        streams.append(t)
idle = []
for _ in range(2000):
    s = socket.socket(); s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    idle.append(s)
time.sleep(0.5)
lat = []
req = ("GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % port).encode()
for _ in range(200):
    t0 = time.perf_counter()
    t = tls(); t.sendall(req)
    got = b""
    while b"\r\n\r\n" not in got:
        d = t.recv(4096)
        if not d:
            break
        got += d
    t.close()
    lat.append((time.perf_counter() - t0) * 1000)
lat.sort()
ok = sum(1 for s in streams if s.fileno() >= 0)
print("  held: %d idle connections, %d event streams" % (len(idle), ok))
print("  new-connection status: p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=200)   goal p99 < 50 ms"
      % (statistics.median(lat), lat[int(len(lat) * 0.99) - 1], lat[-1]))
for s in idle + streams:
    s.close()
PY
  echo "-- idle: CPU over ${CNIED_BENCH_IDLE_S:-60} s, RSS"
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep ${CNIED_BENCH_IDLE_S:-60}
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  echo "  idle CPU: $((t1 - t0)) ticks in ${CNIED_BENCH_IDLE_S:-60} s (goal 0)"
  awk '/VmRSS/ {printf "  RSS: %.1f MiB (goal <= 8 MiB)\n", $2 / 1024}' "/proc/$pid/status"
  # What of it is the daemon's own (the rest: shared library pages).
  awk '/^Private_(Clean|Dirty)/ {p += $2} /^Pss:/ {pss = $2}
       END {printf "  of which private: %.1f MiB, PSS %.1f MiB\n", p / 1024, pss / 1024}' \
    "/proc/$pid/smaps_rollup"
  awk '/Threads/ {print "  threads: " $2}' "/proc/$pid/status"
  )
fi
