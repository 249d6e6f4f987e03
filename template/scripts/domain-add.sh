#!/bin/sh
# `npm run domain:add -- NAME`: add a business domain (schemas/20_NAME.sql, its atlas.hcl entry)
# through `copier update`, which checks the name with the template's own rules. On a refusal it
# prints copier's one-line reason instead of its traceback, and exits non-zero.
#
#   sh scripts/domain-add.sh 'asset, portfolio' NAME    (package.json passes the current list)
set -u
current="${1:-}"
name="${2:-}"
if [ -z "$name" ]; then
  echo "domain:add: name the new domain, e.g. npm run domain:add -- billing" >&2
  exit 2
fi
# A YAML single-quoted string: whatever was typed reaches copier's rules as one list item.
quoted="'$(printf '%s' "$name" | sed "s/'/''/g")'"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
copier update --trust --defaults . --data "domains=[${current:+$current, }$quoted]" 2>"$log"
status=$?
if [ "$status" -eq 0 ]; then
  cat "$log" >&2
  exit 0
fi
reason="$(grep -o "Validation error for question 'domains': .*" "$log" | tail -n 1)"
if [ -n "$reason" ]; then
  echo "domain:add: $name: ${reason#*: }" >&2
else
  cat "$log" >&2
fi
exit "$status"
