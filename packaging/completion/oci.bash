# SPDX-License-Identifier: Apache-2.0
# bash completion for oci (sifoci): verbs, each verb's options (read from
# `oci VERB --help`, so they never fall behind), container IDs from
# `oci list -q`, SIF files for images, directories for bundles.

# The options of `oci VERB --help`, one a line: "NAME ARG" for one that
# takes a value, "NAME" for a flag; both spellings (-b, --bundle).
_oci_verb_options()
{
    local oci=$1 verb=$2
    "$oci" "$verb" --help 2>/dev/null | sed -nE \
        's/^ {2,6}(-([A-Za-z0-9]), )?--([a-z0-9][a-z0-9-]*)( ([^ ]+))?( .*)?$/-\2 \5\n--\3 \5/p' |
        sed -E '/^- ?$/d; /^- /d; s/ +$//'
}

# The containers under the state root the command line names.
_oci_ids()
{
    "$1" ${2:+--root "$2"} list -q 2>/dev/null
}

# COMPREPLY for the value of option OPT (spelled as in --help).
_oci_option_value()
{
    local opt=$1 cur=$2
    case $opt in
    --method) COMPREPLY=($(compgen -W 'auto kernel fuse extract' -- "$cur")) ;;
    --platform) COMPREPLY=($(compgen -W 'linux/amd64 linux/arm64 linux/arm/v7 linux/ppc64le linux/s390x linux/riscv64' -- "$cur")) ;;
    --log-format) COMPREPLY=($(compgen -W 'kubernetes json' -- "$cur")) ;;
    --format) # export's formats, or list's
        if [ "${verb:-}" = export ]; then
            COMPREPLY=($(compgen -W 'oci oci-archive' -- "$cur"))
        else
            COMPREPLY=($(compgen -W 'table json' -- "$cur"))
        fi
        ;;
    --net) COMPREPLY=($(compgen -W 'none host' -- "$cur")) ;;
    --pid | --ipc | --uts) COMPREPLY=($(compgen -W 'private host' -- "$cur")) ;;
    --no-mount) COMPREPLY=($(compgen -W 'sys dev tmp home' -- "$cur")) ;;
    --security) COMPREPLY=($(compgen -W 'seccomp:unconfined seccomp: apparmor:' -- "$cur")) ;;
    --runtime) COMPREPLY=($(compgen -W 'runc crun' -- "$cur") $(compgen -f -- "$cur")) ;;
    -s | --signal) COMPREPLY=($(compgen -W "$(_oci_signals)" -- "$cur")) ;;
    -b | --bundle | -W | --workdir | --root | -H | --home)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -d -- "$cur"))
        ;;
    --env-file | --apply-cgroups | -f | --from-file | --pid-file | -l | --log-path | -B | --bind | --overlay)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        ;;
    *) COMPREPLY=() ;;
    esac
}

_oci_signals()
{
    compgen -A signal | sed 's/^SIG//'
}

# SIF images (and directories, to get to them).
_oci_sif_files()
{
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -X '!*.sif' -- "$1") $(compgen -d -- "$1"))
}

_oci()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local oci=${COMP_WORDS[0]} root='' verb='' i=1 w
    COMPREPLY=()
    # global options, then the verb
    while [ "$i" -lt "$COMP_CWORD" ]; do
        w=${COMP_WORDS[i]}
        case $w in
        --root) root=${COMP_WORDS[i + 1]}; i=$((i + 2)); continue ;;
        --root=*) root=${w#--root=} ;;
        --runtime) i=$((i + 2)); continue ;;
        -*) ;;
        *) verb=$w; break ;;
        esac
        i=$((i + 1))
    done
    if [ -z "$verb" ]; then
        case $prev in
        --root | --runtime) _oci_option_value "$prev" "$cur"; return 0 ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '--root --runtime --help --version' -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$("$oci" --help 2>/dev/null |
                awk '/^Commands:/ {f = 1; next} /^$/ {f = 0} f {print $1}')" -- "$cur"))
        fi
        return 0
    fi

    local options flags=() valued=() o a
    options=$(_oci_verb_options "$oci" "$verb")
    while read -r o a; do
        [ -n "$o" ] || continue
        if [ -n "$a" ]; then valued+=("$o"); else flags+=("$o"); fi
    done <<<"$options"
    local all=" ${flags[*]} ${valued[*]} " takes=" ${valued[*]} "

    # the value of an option?
    if [[ $prev == -* && $takes == *" $prev "* ]]; then
        _oci_option_value "$prev" "$cur"
        return 0
    fi
    # --opt=value
    if [[ $cur == --*=* && $takes == *" ${cur%%=*} "* ]]; then
        local v=${cur#*=}
        _oci_option_value "${cur%%=*}" "$v"
        return 0
    fi
    # which positional is this (options and their values skipped; exec's
    # options end at its ID)
    local npos=0 j=$((i + 1))
    while [ "$j" -lt "$COMP_CWORD" ]; do
        w=${COMP_WORDS[j]}
        if [[ $w == -?* && ! ($verb == exec && $npos -gt 0) ]]; then
            [[ $w != *=* && $takes == *" $w "* ]] && j=$((j + 1))
        else
            npos=$((npos + 1))
        fi
        j=$((j + 1))
    done
    if [[ $cur == -* && ! ($verb == exec && $npos -gt 0) ]]; then
        COMPREPLY=($(compgen -W "$all --help" -- "$cur"))
        return 0
    fi
    case $verb in
    inspect) [ "$npos" -eq 0 ] && _oci_sif_files "$cur" ;;
    mount | export) # IMAGE, then a bundle or DEST (a new name: directories lead to it)
        if [ "$npos" -eq 0 ]; then
            _oci_sif_files "$cur"
        elif [ "$npos" -eq 1 ]; then
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -d -- "$cur"))
        fi
        ;;
    umount)
        compopt -o filenames 2>/dev/null
        [ "$npos" -eq 0 ] && COMPREPLY=($(compgen -d -- "$cur"))
        ;;
    create | run)
        # without -b the first argument is an image (a bundle of its own);
        # the ID after it is a new one
        [[ "$npos" -eq 0 && " ${COMP_WORDS[*]} " != *" -b "* && " ${COMP_WORDS[*]} " != *" --bundle"* ]] &&
            _oci_sif_files "$cur"
        ;;
    list) ;;
    kill)
        if [ "$npos" -eq 0 ]; then
            COMPREPLY=($(compgen -W "$(_oci_ids "$oci" "$root")" -- "$cur"))
        elif [ "$npos" -eq 1 ]; then
            COMPREPLY=($(compgen -W "$(_oci_signals)" -- "$cur"))
        fi
        ;;
    *) [ "$npos" -eq 0 ] && COMPREPLY=($(compgen -W "$(_oci_ids "$oci" "$root")" -- "$cur")) ;;
    esac
    return 0
}
complete -F _oci oci
