#!/usr/bin/env python3
"""CNIE kiosk page server: the demo portal's server (web/demo/server.py)
serving the kiosk page (web/kiosk/index.html, kiosk.js) instead of the
portal's.  Same options, same endpoints (/config.json, /i18n/LANG.json,
/api/nonce, /api/login verifying the Web eID token with cnie-tool
verify-token).  A demonstration of what the kiosk operator's server does,
not a server to deploy (docs/kiosk.md).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "demo"))
import server  # noqa: E402  (web/demo/server.py)

# Only the kiosk's files (and the two client modules): every other path is 404.
for path in ("/", "/index.html", "/app.js"):
    server.STATIC.pop(path, None)
server.STATIC.update({
    "/": (os.path.join(HERE, "index.html"), "text/html; charset=utf-8"),
    "/index.html": (os.path.join(HERE, "index.html"), "text/html; charset=utf-8"),
    "/kiosk.js": (os.path.join(HERE, "kiosk.js"), "text/javascript; charset=utf-8"),
})

if __name__ == "__main__":
    server.main()
