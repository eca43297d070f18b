#!/usr/bin/env bash
# Adds every public symbol the build reports as undeclared (RS0016) to the project's PublicAPI.Unshipped.txt.
# Review the diff: it is the public API change of your work.  Usage: eng/update-public-api.sh src/<Project>
set -euo pipefail
project=${1:?usage: eng/update-public-api.sh src/<Project>}
unshipped="$project/PublicAPI.Unshipped.txt"
log=$(mktemp)
dotnet build "$project" -nologo -clp:NoSummary >"$log" 2>&1 || true
grep -o "RS0016: Symbol '.*' is not part of the declared public API" "$log" \
  | sed -e "s/^RS0016: Symbol '//" -e "s/' is not part of the declared public API$//" >>"$unshipped" || true
{ echo '#nullable enable'; grep -v '^#nullable enable$' "$unshipped" | sort -u; } >"$log.sorted"
mv "$log.sorted" "$unshipped"
rm -f "$log"
echo "$(($(wc -l <"$unshipped") - 1)) symbols in $unshipped"
