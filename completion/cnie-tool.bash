# bash completion for cnie-tool(1)
# shellcheck shell=bash
# COMPREPLY=($(compgen ...)) is the bash-completion idiom (words never
# contain spaces here, except file names, split on newlines below).
# shellcheck disable=SC2207

_cnie_tool_readers() {
  # Reader names from PC/SC (quiet, and fast enough for a TAB).
  cnie-tool --json readers 2>/dev/null |
    python3 -c 'import json,sys
try:
    print("\n".join(r["name"] for r in json.load(sys.stdin).get("readers", [])))
except Exception:
    pass' 2>/dev/null
}

_cnie_tool() {
  local cur prev words cword
  _init_completion -n = 2>/dev/null || {
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  }
  local globals="--json --reader --reference-card -v --verbose -h --help --version"
  local commands="readers info identity certs pin sign verify bridge register unregister verify-token doctor help"

  case $prev in
    --reader)
      local IFS=$'\n'
      COMPREPLY=($(compgen -W "$(_cnie_tool_readers)" -- "$cur"))
      return ;;
    --reference-card|--csca|--ca)
      local IFS=$'\n'
      COMPREPLY=($(compgen -d -- "$cur")); [ "$prev" = --reference-card ] ||
        COMPREPLY+=($(compgen -f -- "$cur"))
      return ;;
    --photo|--out|--in|--sig|--cert|--report|--pinentry|--module|--policies)
      local IFS=$'\n'
      COMPREPLY=($(compgen -f -- "$cur"))
      return ;;
    --key|--export)
      COMPREPLY=($(compgen -W "auth sign $( [ "$prev" = --export ] && echo all)" -- "$cur"))
      return ;;
    --hash-alg)
      COMPREPLY=($(compgen -W "sha1 sha224 sha256 sha384 sha512" -- "$cur"))
      return ;;
    --hash|--pin-argv-insecure|--new-pin-argv-insecure|--puk-argv-insecure|--can-argv-insecure)
      return ;;
  esac

  # The subcommand: the first word that is not an option or an option's value.
  local i cmd="" w
  for ((i = 1; i < cword; i++)); do
    w=${words[i]}
    case $w in
      --reader|--reference-card) ((i++)) ;;
      -*) ;;
      *) cmd=$w; break ;;
    esac
  done

  local opts
  case $cmd in
    "") COMPREPLY=($(compgen -W "$commands $globals" -- "$cur")); return ;;
    readers) opts="" ;;
    info) opts="--can-stdin --pinentry" ;;
    identity) opts="--can-stdin --mrz-stdin --mrz --bac --pinentry --photo --csca --no-progress" ;;
    certs) opts="--ca --export --der --out --can-stdin" ;;
    pin)
      if [ "$cmd" = "${words[cword-1]}" ] || ! printf '%s\n' "${words[@]}" |
          grep -qxE 'status|verify|change|unblock'; then
        COMPREPLY=($(compgen -W "status verify change unblock" -- "$cur")); return
      fi
      opts="--pin-stdin --pinentry --pinpad --no-pinpad --can-stdin --pin-argv-insecure
            --new-pin-argv-insecure --puk-argv-insecure" ;;
    sign) opts="--key --in --hash --hash-alg --out --pss --raw --pin-stdin --pinentry --pinpad
                --no-pinpad --can-stdin --pin-argv-insecure" ;;
    verify) opts="--key --cert --in --hash --hash-alg --sig --pss --can-stdin" ;;
    bridge) COMPREPLY=($(compgen -W "status trust" -- "$cur")); return ;;
    register|unregister) opts="--module --system --policies" ;;
    doctor) opts="--report --ca --can-stdin --no-bridge" ;;
    *) opts="" ;;
  esac
  COMPREPLY=($(compgen -W "$opts $globals --help" -- "$cur"))
}
complete -F _cnie_tool cnie-tool
