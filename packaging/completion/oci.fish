# SPDX-License-Identifier: Apache-2.0
# fish completion for oci (sifoci): verbs, each verb's options (read from
# `oci VERB --help`), their values, container IDs from `oci list -q`, SIF
# files for images and directories for bundles.

# "NAME ARG" or "NAME" per option of `oci VERB --help`, both spellings.
function __oci_verb_options -a oci verb
    $oci $verb --help 2>/dev/null | sed -nE \
        's/^ {2,6}(-([A-Za-z0-9]), )?--([a-z0-9][a-z0-9-]*)( ([^ ]+))?( .*)?$/-\2 \5\n--\3 \5/p' |
        sed -E '/^- ?$/d; /^- /d; s/ +$//'
end

function __oci_option_value -a opt cur oci root verb
    switch $opt
        case --method
            printf '%s\n' auto kernel fuse extract
        case --platform
            printf '%s\n' linux/amd64 linux/arm64 linux/arm/v7 linux/ppc64le linux/s390x linux/riscv64
        case --log-format
            printf '%s\n' kubernetes json
        case --format
            # export's formats, or list's
            if test "$verb" = export
                printf '%s\n' oci oci-archive
            else
                printf '%s\n' table json
            end
        case --net
            printf '%s\n' none host
        case --pid --ipc --uts
            printf '%s\n' private host
        case --no-mount
            printf '%s\n' sys dev tmp home
        case --security
            printf '%s\n' seccomp:unconfined seccomp: apparmor:
        case --runtime
            printf '%s\n' runc crun
        case -s --signal
            __fish_make_completion_signals
            for s in $__kill_signals
                string replace -r '^\d+ ' '' -- $s
            end
        case -b --bundle -W --workdir --root -H --home
            __fish_complete_directories $cur
        case --env-file --apply-cgroups -f --from-file --pid-file -l --log-path -B --bind --overlay
            __fish_complete_path $cur
    end
end

function __oci_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l oci $tokens[1]
    set -l root
    set -l verb
    set -l i 2
    while test $i -le (count $tokens)
        switch $tokens[$i]
            case --root
                set i (math $i + 1)
                set root $tokens[$i]
            case '--root=*'
                set root (string replace -- --root= '' $tokens[$i])
            case --runtime
                set i (math $i + 1)
            case '-*'
            case '*'
                set verb $tokens[$i]
                break
        end
        set i (math $i + 1)
    end
    set -l prev $tokens[-1]
    if test -z "$verb"
        if contains -- $prev --root --runtime
            __oci_option_value $prev $cur
        else if string match -q -- '-*' $cur
            printf '%s\n' --root --runtime --help --version
        else
            $oci --help 2>/dev/null | awk '/^Commands:/ {f = 1; next} /^$/ {f = 0}
                f {name = $1; sub(/^ *[^ ]+ +/, ""); print name "\t" $0}'
        end
        return
    end

    set -l flags
    set -l valued
    for line in (__oci_verb_options $oci $verb)
        set -l parts (string split -m 1 ' ' -- $line)
        if set -q parts[2]
            set -a valued $parts[1]
        else
            set -a flags $parts[1]
        end
    end
    if test "$prev" != "$verb"; and contains -- $prev $valued
        __oci_option_value $prev $cur $oci $root $verb
        return
    end
    # which positional this is: options and their values skipped; exec's
    # options end at its ID
    set -l npos 0
    set -l j (math $i + 1)
    while test $j -le (count $tokens)
        set -l w $tokens[$j]
        if string match -q -- '-?*' $w; and not test $verb = exec -a $npos -gt 0
            if contains -- $w $valued
                set j (math $j + 1)
            end
        else
            set npos (math $npos + 1)
        end
        set j (math $j + 1)
    end
    if string match -q -- '-*' $cur; and not test $verb = exec -a $npos -gt 0
        printf '%s\n' $flags $valued --help
        return
    end
    switch $verb
        case inspect
            test $npos -eq 0; and __oci_sif_files $cur
        case mount export # IMAGE, then a bundle or DEST (a new name: directories lead to it)
            if test $npos -eq 0
                __oci_sif_files $cur
            else if test $npos -eq 1
                __fish_complete_directories $cur
            end
        case umount
            test $npos -eq 0; and __fish_complete_directories $cur
        case create run
            # without -b the first argument is an image (a bundle of its own)
            if test $npos -eq 0; and not contains -- -b $tokens; and not string match -q -- '--bundle*' $tokens
                __oci_sif_files $cur
            end
        case list
        case kill
            if test $npos -eq 0
                __oci_ids $oci $root
            else if test $npos -eq 1
                __oci_option_value --signal $cur
            end
        case '*'
            test $npos -eq 0; and __oci_ids $oci $root
    end
end

function __oci_ids -a oci root
    if test -n "$root"
        $oci --root $root list -q 2>/dev/null
    else
        $oci list -q 2>/dev/null
    end
end

function __oci_sif_files -a cur
    set -l images $cur*.sif
    printf '%s\n' $images
    __fish_complete_directories $cur
end

complete -c oci -f -a '(__oci_complete)'
