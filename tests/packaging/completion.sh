#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Shell completion as a shell would call it: the bash script sourced and its
# function called with COMP_WORDS/COMP_CWORD (verbs, every verb's options,
# option values, container IDs from `oci list -q`, SIF files, bundle
# directories); the fish script asked with `complete -C`; the zsh one
# loaded by zsh's own completion system.
# shellcheck source=../lib/tap.sh
. "$SIFOCI_TESTS/lib/tap.sh"
comp=$SIFOCI_TESTS/../packaging/completion
work=$(mktemp -d "${TMPDIR:-/tmp}/h15-completion.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT

# a state root with two containers (a state dir is all `oci list -q` needs),
# SIF files, another file and directories
mkdir -m 0700 "$work/root" "$work/root/cmp-one" "$work/root/cmp-two"
mkdir -p "$work/files/bundles/b1" "$work/files/bundles/b2"
touch "$work/files/img-a.sif" "$work/files/img-b.sif" "$work/files/notes.txt"

# shellcheck source=../../packaging/completion/oci.bash
. "$comp/oci.bash"
# complete WORD...: COMPREPLY, sorted, one line, for the last WORD
complete_words() {
  COMP_WORDS=("$OCI" "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _oci
  printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'
}
cd "$work/files" || exit 1

verbs=$("$OCI" --help | awk '/^Commands:/ {f = 1; next} /^$/ {f = 0} f {print $1}' | sort | tr '\n' ' ')
tap_is "$(complete_words '')" "${verbs% }" "bash: every verb for an empty word"
tap_is "$(complete_words mo)" "mount" "bash: a verb's prefix"
tap_is "$(complete_words --root "$work/root" u)" "umount update" "bash: verbs after a global option and its value"
tap_is "$(complete_words --ro)" "--root" "bash: global options"

# every option of every verb's --help, both spellings
bad=()
for verb in $verbs; do
  want=$("$OCI" "$verb" --help | sed -nE 's/^ {2,6}((-[A-Za-z0-9]), )?(--[a-z0-9][a-z0-9-]*).*/\2 \3/p' |
    tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')
  got=" $(complete_words "$verb" -) "
  for o in $want --help; do [[ $got == *" $o "* ]] || bad+=("$verb:$o"); done
done
tap_is "${bad[*]}" "" "bash: '-' offers every option of every verb's --help"
tap_is "$(complete_words mount --me)" "--memory --memory-reservation --memory-swap --method" \
  "bash: an option's prefix"

tap_is "$(complete_words mount --method '')" "auto extract fuse kernel" "bash: mount --method's values"
tap_is "$(complete_words list --format '')" "json table" "bash: list --format's values"
tap_is "$(complete_words create --log-format k)" "kubernetes" "bash: --log-format's values"
tap_is "$(complete_words mount --net=h)" "host" "bash: --opt=value"
tap_like "$(complete_words kill -s TE)" '^TERM$' "bash: signal names for kill -s"

tap_is "$(complete_words --root "$work/root" state '')" "cmp-one cmp-two" \
  "bash: container IDs from oci list -q, under the --root given"
tap_is "$(complete_words --root "$work/root" exec -t cmp-o)" "cmp-one" "bash: exec's ID after its options"
tap_is "$(complete_words --root "$work/root" exec cmp-one ls -)" "" "bash: nothing of ours after exec's command"
tap_is "$(complete_words --root "$work/root" kill cmp-one K)" "KILL" "bash: kill's second argument is a signal"

tap_is "$(complete_words inspect '')" "bundles img-a.sif img-b.sif" "bash: inspect: SIF files (and directories)"
tap_is "$(complete_words mount --net host img-a.sif '')" "bundles" \
  "bash: mount: a directory for the bundle, after the image and options with values"
tap_is "$(complete_words mount -B /x:/y img)" "img-a.sif img-b.sif" "bash: mount: SIF files after -B's value"
tap_is "$(complete_words run -b bundles/)" "bundles/b1 bundles/b2" "bash: run -b: directories"
tap_is "$(complete_words umount bundles/b)" "bundles/b1 bundles/b2" "bash: umount: directories"
tap_is "$(complete_words update -f no)" "notes.txt" "bash: update -f: files"

complete -p oci >/dev/null 2>&1
tap_ok $? "bash: the script registers _oci for oci"

if command -v fish >/dev/null 2>&1; then
  fish_complete() { # fish_complete LINE: the candidates, without descriptions
    fish --no-config -c "set -gx PATH $(dirname "$OCI") \$PATH; source $comp/oci.fish; complete -C '$1'" |
      cut -f1 | sort | tr '\n' ' ' | sed 's/ $//'
  }
  tap_is "$(fish_complete 'oci mo')" "mount" "fish: a verb's prefix"
  tap_is "$(fish_complete 'oci mount --met')" "--method" "fish: a verb's options from its --help"
  tap_is "$(fish_complete 'oci mount --method ')" "auto extract fuse kernel" "fish: an option's values"
  tap_is "$(fish_complete "oci --root $work/root state ")" "cmp-one cmp-two" "fish: container IDs"
else
  tap_diag "no fish: its script not checked"
fi
if command -v zsh >/dev/null 2>&1; then
  zsh -n "$comp/_oci"
  tap_ok $? "zsh: _oci parses"
  out=$(zsh -f -c "fpath=($comp \$fpath); autoload -Uz compinit; compinit -u -D; print -r -- \$_comps[oci]")
  tap_is "$out" "_oci" "zsh: compinit picks _oci for oci (#compdef)"
else
  tap_diag "no zsh: its script not checked"
fi
tap_done
