#!/usr/bin/env bash
# OpenSSH on the module: `ssh-keygen -D` lists the authentication key (the
# same key as in the card's authentication certificate), then a real login
# to a private sshd on 127.0.0.1 (started here as root, temporary config and
# host key, only that key authorized) with `ssh -I MODULE`, the PIN given
# by an SSH_ASKPASS program (SSH_ASKPASS_REQUIRE=force).  Asserts: exit 0,
# the remote command ran, sshd accepted exactly the card's key.
# With CARD-pinpad the card is in the PIN-pad reader: the PIN is typed on
# the reader (queued with cnie-sim), never asked on the computer.
#   ssh.sh MODULE [ec|rsa|ec-pinpad]      (under with-pcscd --virtual, as root)
. "$(dirname "$0")/common.sh"
need ssh ssh-keygen openssl python3
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || skip "sshd not installed (openssh-server)"
[ "$P11C_REAL_ROOT" = 1 ] || skip "sshd must run as real root to log in (not in a user namespace)"

# ssh form of the certificate keys.
for r in auth sign; do
  openssl x509 -in "$T/$r.pem" -noout -pubkey >"$T/$r.pub.pem"
  ssh-keygen -i -m PKCS8 -f "$T/$r.pub.pem" >"$T/$r.ssh" || { fail "ssh-keygen -i $r"; finish; }
done
auth_blob=$(awk '{print $2}' "$T/auth.ssh")

out=$(client ssh-keygen -D "$MODULE" 2>"$T/keygen.err"); rc=$?
echo "$out" | sed 's/^/  | /'
sed 's/^/  ! /' "$T/keygen.err"
[ "$rc" = 0 ] && ok "ssh-keygen -D exits 0" || fail "ssh-keygen -D exited $rc"
line=$(awk -v b="$auth_blob" '$2 == b' <<<"$out" | head -n1)
if [ -n "$line" ]; then
  ok "ssh-keygen -D lists the authentication key: $(awk '{print $1}' <<<"$line")"
else
  fail "ssh-keygen -D does not list the key of the authentication certificate ($(cat "$T/auth.ssh"))"
  finish
fi
n=$(grep -c '^\(ssh-\|ecdsa-\)' <<<"$out")
echo "  ssh-keygen -D listed $n key(s)"
grep -q "$(awk '{print $2}' "$T/sign.ssh")" <<<"$out" && echo "  (the signature key is listed too)"

# sshd: loopback, a free port, only the card's authentication key.
mkdir -p /run/sshd "$T/sshd"
ssh-keygen -q -t ed25519 -N '' -f "$T/sshd/host" || { fail "host key"; finish; }
echo "$line" >"$T/sshd/authorized_keys"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sshd_pid=
on_exit '[ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null; [ -n "$sshd_pid" ] && wait "$sshd_pid" 2>/dev/null'
for attempt in 1 2 3; do
  port=$(free_port)
  cat >"$T/sshd/config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $T/sshd/host
PidFile $T/sshd/pid
AuthorizedKeysFile $T/sshd/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
LogLevel VERBOSE
CFG
  "$SSHD" -t -f "$T/sshd/config" || { fail "sshd -t rejects the config"; finish; }
  : >"$T/sshd/log"
  "$SSHD" -D -f "$T/sshd/config" -E "$T/sshd/log" &
  sshd_pid=$!
  up=0
  for _ in $(seq 1 50); do
    kill -0 "$sshd_pid" 2>/dev/null || break
    grep -q "Server listening on 127.0.0.1 port $port" "$T/sshd/log" && { up=1; break; }
    sleep 0.1
  done
  [ "$up" = 1 ] && break
  kill "$sshd_pid" 2>/dev/null; wait "$sshd_pid" 2>/dev/null; sshd_pid=
done
[ "$up" = 1 ] || { sed 's/^/  ! /' "$T/sshd/log"; fail "sshd did not start"; finish; }
ok "sshd listening on 127.0.0.1:$port"

# The PIN through SSH_ASKPASS; the remote command leaves a mark.
printf '#!/bin/sh\necho "$*" >>%s/askpass.prompts\nprintf "%%s\\n" %s\n' "$T" "$PIN" >"$T/askpass"
chmod 700 "$T/askpass"
mark=$T/ran.$$
# IdentitiesOnly with the public key of the authentication certificate:
# ssh offers that token key only (never a key of ~/.ssh or an agent).
unset SSH_AUTH_SOCK
export SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=${DISPLAY:-:0}
if [ "$READER" = 2 ]; then
  # PIN pad: ssh defers the PIN to the reader's keypad (C_Login with no
  # PIN, CKF_PROTECTED_AUTHENTICATION_PATH); the holder's entry is queued.
  printf '%s\n' "$PIN" | "$SIM" --reader 2 keys - >/dev/null || fail "cnie-sim keys"
fi
out=$(client ssh -F /dev/null -I "$MODULE" -o BatchMode=no -o IdentitiesOnly=yes -o IdentityFile="$T/auth.ssh" \
  -o PreferredAuthentications=publickey -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile="$T/known_hosts" -o ConnectTimeout=20 \
  ${P11C_SSH_OPTS:-} -p "$port" root@127.0.0.1 "echo ran >$mark; echo remote-ok" </dev/null 2>"$T/ssh.err"); rc=$?
sed 's/^/  ! /' "$T/ssh.err"
[ "$rc" = 0 ] && ok "ssh -I MODULE exits 0" || fail "ssh -I MODULE exited $rc"
[ "$out" = remote-ok ] && [ "$(cat "$mark" 2>/dev/null)" = ran ] && ok "the remote command ran" ||
  fail "the remote command did not run (output '$out')"
if [ "$READER" = 2 ]; then
  grep -qi 'PIN' "$T/askpass.prompts" 2>/dev/null && fail "SSH_ASKPASS asked for a PIN on a PIN-pad reader" ||
    ok "no PIN asked on the computer (PIN-pad reader)"
  grep -q '"keys":0' <<<"$("$SIM" --reader 2 status)" && ok "the PIN pad's queued entry was used" ||
    fail "the PIN pad's entry was not used"
else
  grep -qi 'PIN' "$T/askpass.prompts" 2>/dev/null && ok "the PIN was asked through SSH_ASKPASS: $(head -n1 "$T/askpass.prompts")" ||
    fail "SSH_ASKPASS was never asked for the PIN"
fi
fp=$(ssh-keygen -l -f "$T/auth.ssh" | awk '{print $2}')
if grep -q "Accepted publickey for root from 127.0.0.1 .*$fp" "$T/sshd/log"; then
  ok "sshd accepted the card's authentication key ($fp)"
else
  sed 's/^/  ! /' "$T/sshd/log"
  fail "sshd log has no 'Accepted publickey' with $fp"
fi
finish
