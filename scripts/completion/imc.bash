# SPDX-License-Identifier: GPL-3.0-or-later
# bash completion for imc: operations and commands, options and their values, `imc radl`'s
# subcommands and options, and infrastructure ids.  Installed as
# $datadir/bash-completion/completions/imc, where bash-completion loads it on the first
# `imc <TAB>`; it uses nothing of bash-completion, so `source imc.bash` works without it.
#
# Ids come from `imc -q list`, run with the connection options already on the line (-a, -c,
# -u, -r, -v, --local) and only once an operation is typed: `imc <TAB>` never starts a
# command.  `timeout 3` bounds it and its errors are hidden: a slow or unreachable server
# means no ids, never a hung prompt.

# Global options.  Those that take a value are kept apart: the walk over the line must skip
# their value, and the value is what gets completed after them.
_imc_opts_flag='-v --verify-ssl -f --force -q --quiet -n --name -y --yes --json --local --wait
  --detach -h --help -V --version'
_imc_opts_value='-a --auth_file -u --xmlrpc-url -r --rest-url -s --system_name -c --config'
# Of the options above, those that say which server and credentials `imc -q list` must use.
_imc_opts_conn='-a --auth_file -u --xmlrpc-url -r --rest-url -c --config -v --verify-ssl --local'

# `imc radl SUB`'s options (cli/radl_cmd.c's table: which subcommand accepts which).
_imc_radl_subs='check fmt json fromjson inputs'
_imc_radl_opts_check='--strict -i --input -v --verbose -h --help'
_imc_radl_opts_fmt='--strict -i --input -w --write -h --help'
_imc_radl_opts_json='--strict -i --input -p --pretty -h --help'
_imc_radl_opts_fromjson='-h --help'
_imc_radl_opts_inputs='-h --help'

# Each operation's arguments, one letter per position: I an infrastructure id, F a file,
# B a 0/1 flag, P an id or a file (plan), C a command name (help), - a value that cannot be
# guessed (vm ids, filters, dates, remote paths): nothing is offered.  The keys are the
# operation names offered after `imc`; test/integration/test_completion.py checks them
# against `imc --help` and doc/imc.1.
declare -gA _imc_args=(
  [list]='-' [create]='F B' [destroy]='I' [getinfo]='I -' [getradl]='I' [getcontmsg]='I'
  [getstate]='I' [getvminfo]='I - -' [getvmcontmsg]='I -' [addresource]='I F B'
  [removeresource]='I - B' [alter]='I - F' [start]='I' [stop]='I' [reboot]='I'
  [reconfigure]='I F -' [startvm]='I -' [stopvm]='I -' [rebootvm]='I -' [sshvm]='I - B'
  [ssh]='I B' [putvm]='I - B F -' [getvm]='I - B - F' [put]='I B F -' [get]='I B - F'
  [export]='I B' [import]='F' [getoutputs]='I' [cloudusage]='-' [cloudimages]='-'
  [getversion]='' [wait]='I -' [create_wait_outputs]='F' [change_auth]='I F B'
  [getowners]='I' [estimate]='F' [stats]='- -'
  [plan]='P F' [radl]='' [help]='C'
)

# " $list " contains " $word ": is word one of the words of list?
_imc_in() {
  [[ " ${2//$'\n'/ } " == *" $1 "* ]]
}

# A word as the shell will pass it, for the few the completion runs imc with: a leading ~/
# and one layer of quotes or backslashes undone.  Nothing is evaluated.
_imc_dequote() {
  local w=$1
  if [[ $w == \"*\" || $w == \'*\' ]]; then
    w=${w:1:${#w}-2}
  else
    w=${w//\\/}
  fi
  # shellcheck disable=SC2088 # the literal ~/ the user typed, expanded by hand
  [[ $w == '~/'* ]] && w=$HOME/${w#'~/'}
  REPLY=$w
}

# Adds to COMPREPLY the words of the list $1 that start with $2.
_imc_add() {
  mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "$1" -- "$2")
}

# Files and directories matching $1, with bash quoting them and marking directories.
_imc_files() {
  compopt -o filenames 2>/dev/null
  mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$1")
}

# Infrastructure ids that start with $1, from `imc -q list` (a JSON list, one quoted id a
# line) run with the connection options in the array _imc_conn.
_imc_ids() {
  local imc line re='^[[:space:]]*"([^"]+)"' out
  local -a ids=()

  _imc_dequote "${COMP_WORDS[0]}"
  imc=$REPLY
  out=$(timeout 3 "$imc" "${_imc_conn[@]}" -q list 2>/dev/null </dev/null) || return 0
  while IFS= read -r line; do
    [[ $line =~ $re ]] && ids+=("${BASH_REMATCH[1]}")
  done <<<"$out"
  _imc_add "${ids[*]}" "$1"
}

# Completes the value of option $1 that starts with $2.
_imc_value() {
  case $1 in
    -a | --auth_file | -c | --config) _imc_files "$2" ;;
    *) ;; # URLs, system names, radl -i NAME=VALUE: nothing to guess
  esac
}

# Completes the argument of type $1 (a letter of _imc_args) that starts with $2.
_imc_arg() {
  case $1 in
    F) _imc_files "$2" ;;
    I) _imc_name_mode || _imc_ids "$2" ;;
    P)
      _imc_name_mode || _imc_ids "$2"
      _imc_files "$2"
      ;;
    B) _imc_add '0 1' "$2" ;;
    C) _imc_add "${!_imc_args[*]}" "$2" ;;
    *) ;;
  esac
}

# -n makes operations take infrastructure names, which `imc -q list` does not print.
_imc_name_mode() {
  [[ $_imc_names == 1 ]]
}

# The words of the line as the shell will pass them to imc, in _imc_w, and the index of the
# one under the cursor in _imc_cw.  bash cuts words at '=' and ':' too (COMP_WORDBREAKS), so
# `-u http://host:8899` reaches the function as six words: pieces with no blank between them
# where one is such a break are joined again, by their places in COMP_LINE.  _imc_cur is the
# joined word under the cursor up to the cursor, _imc_strip how much of it lies before the
# piece bash will replace.
_imc_words() {
  local line=$COMP_LINE pos=0 start i w brk='^[=:]+$' lastbrk=1 bstart=0 wstart=0

  for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
    w=${COMP_WORDS[i]}
    start=$pos
    while [[ ${line:pos:1} == [[:space:]] ]]; do ((pos++)); done
    if [[ ${line:pos:${#w}} != "$w" ]]; then # not the line bash split: take its words
      _imc_w=("${COMP_WORDS[@]}") _imc_cw=$COMP_CWORD _imc_cur=${COMP_WORDS[COMP_CWORD]}
      _imc_strip=0
      return
    fi
    if ((i > 0 && pos == start)) && [[ -n $w ]] && { [[ $w =~ $brk ]] || ((lastbrk)); }; then
      _imc_w[-1]+=$w
    else
      _imc_w+=("$w")
      ((i <= COMP_CWORD)) && wstart=$pos
    fi
    [[ $w =~ $brk ]] && lastbrk=1 || lastbrk=0
    if ((i == COMP_CWORD)); then
      _imc_cw=$((${#_imc_w[@]} - 1))
      # A piece that is only breaks is not replaced: readline completes what follows it.
      bstart=$pos
      [[ $w =~ $brk ]] && bstart=$((pos + ${#w}))
    fi
    ((pos += ${#w}))
  done
  ((COMP_POINT > bstart)) || bstart=$COMP_POINT
  _imc_cur=${line:wstart:COMP_POINT-wstart}
  _imc_strip=$((bstart - wstart))
}

_imc() {
  local cur want='' op='' sub='' w i npos=0 value_opts=$_imc_opts_value
  local -a types
  # The helpers' state: local here, seen by them (bash scopes dynamically), gone after.
  local -a _imc_w=() _imc_conn=()
  local _imc_cw=0 _imc_cur='' _imc_strip=0 _imc_names=0

  COMPREPLY=()
  _imc_words
  cur=$_imc_cur

  # Walk the words before the cursor: options (and their values), the operation, then its
  # positional arguments, counted in npos.  Options may come after the operation too; after
  # `radl` they are radl's.
  for ((i = 1; i < _imc_cw; i++)); do
    w=${_imc_w[i]}
    if [[ -n $want ]]; then
      if _imc_in "$want" "$_imc_opts_conn"; then
        _imc_dequote "$w"
        _imc_conn+=("$want" "$REPLY")
      fi
      want=''
      continue
    fi
    case $w in
      --*=*)
        if _imc_in "${w%%=*}" "$_imc_opts_conn"; then
          _imc_dequote "${w#*=}"
          _imc_conn+=("${w%%=*}" "$REPLY")
        fi
        ;;
      -*)
        if _imc_in "$w" "$value_opts"; then
          want=$w
        elif [[ $op != radl ]]; then
          _imc_in "$w" "$_imc_opts_conn" && _imc_conn+=("$w")
          [[ $w == -n || $w == --name ]] && _imc_names=1
        fi
        ;;
      *)
        if [[ -z $op ]]; then
          op=$w
          [[ $op == radl ]] && value_opts='-i --input'
        elif [[ $op == radl && -z $sub ]]; then
          sub=$w
        else
          ((npos++))
        fi
        ;;
    esac
  done

  if [[ -n $want ]]; then
    _imc_value "$want" "$cur"
  elif [[ $cur == --*=* ]]; then
    _imc_value "${cur%%=*}" "${cur#*=}"
    for i in "${!COMPREPLY[@]}"; do
      COMPREPLY[i]=${cur%%=*}=${COMPREPLY[i]}
    done
  elif [[ $cur == -* ]]; then
    if [[ $op != radl ]]; then
      _imc_add "$_imc_opts_flag $_imc_opts_value" "$cur"
    elif _imc_in "$sub" "$_imc_radl_subs"; then
      local opts_var=_imc_radl_opts_$sub
      _imc_add "${!opts_var}" "$cur"
    fi
  elif [[ -z $op ]]; then
    _imc_add "${!_imc_args[*]}" "$cur"
  elif [[ $op == radl ]]; then
    if [[ -z $sub ]]; then
      _imc_add "$_imc_radl_subs" "$cur"
    elif _imc_in "$sub" "$_imc_radl_subs"; then
      _imc_files "$cur"
    fi
  elif [[ $op =~ ^[a-z_]+$ && -n ${_imc_args[$op]+set} ]]; then
    read -ra types <<<"${_imc_args[$op]}"
    ((npos < ${#types[@]})) && _imc_arg "${types[npos]}" "$cur"
  fi
  # Candidates complete the joined word; bash replaces only its last piece.
  if ((_imc_strip > 0)); then
    for i in "${!COMPREPLY[@]}"; do
      COMPREPLY[i]=${COMPREPLY[i]#"${cur:0:_imc_strip}"}
    done
  fi
  return 0
}

complete -F _imc imc
