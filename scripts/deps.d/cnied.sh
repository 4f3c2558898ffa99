# shellcheck shell=bash
# cnied (src/cnied): libevent (+openssl, pthreads), libassuan, jansson, OpenSSL
# are in cmake/CnieDeps.cmake's list; tests and bench need a pinentry-free
# scripted pinentry (in tree), python3, curl, certutil (cnie-tool bridge
# trust), wrk and systemd-socket-activate (optional).
CNIE_BUILD_PACKAGES+=(libevent-dev libassuan-dev libgpg-error-dev libjansson-dev libssl-dev)
CNIE_BUILD_PACKAGES+=(python3 curl libnss3-tools wrk)
CNIE_RUNTIME_PACKAGES+=(libevent-2.1-7 libevent-openssl-2.1-7 libevent-pthreads-2.1-7
  libassuan0 libjansson4 libnss3-tools)
