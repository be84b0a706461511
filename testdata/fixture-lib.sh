# Shared by make-xfs.sh, make-lvm.sh and make-btrfs.sh (sourced, with $here set).
#
# begin_fixtures OUT WANT: one build at a time (a lock beside OUT); when OUT was built from
# the same inputs (WANT, a hash of them, equals OUT/.stamp) the calling script exits at once;
# otherwise make-images.sh's trees are made, OUT is emptied and becomes the working directory.
# finish_fixtures OUT WANT: marks OUT as built from WANT.
begin_fixtures() {
  local out=$1 want=$2
  mkdir -p "$(dirname "$out")"
  exec 9>"$out.lock"
  flock 9
  if [[ -f $out/.stamp && $(cat "$out/.stamp") == "$want" ]]; then
    exit 0
  fi
  "$here/make-images.sh" >/dev/null
  rm -rf "$out"
  mkdir -p "$out"
  cd "$out"
}

finish_fixtures() {
  echo "$2" > "$1/.stamp"
}
