#!/usr/bin/env bash
# The shared side-by-side kit (../shared/bench-peers/side_by_side.sh), run unchanged but for
# one line: the kit creates its Ostiary account with the password "bench password 123456",
# which the password policy refuses (it contains the email's name, "bench"; issue 16,
# docs/account-recovery.md). This copy gives it another password and nothing else.
#   bash bench/side_by_side.sh . sqlite|postgres|both
set -euo pipefail
kit=$(cd "$(dirname "$0")/../../shared/bench-peers" && pwd)
copy=$(mktemp)
trap 'rm -f "$copy"' EXIT
sed "s|^HERE=.*|HERE=$kit|; s|echo \"bench password 123456\"|echo \"wrk load test passphrase 123456\"|" \
  "$kit/side_by_side.sh" > "$copy"
if ! grep -q "wrk load test passphrase" "$copy"; then
  echo "the kit no longer sets that password: run $kit/side_by_side.sh itself" >&2
  exit 2
fi
exec bash "$copy" "$@"
