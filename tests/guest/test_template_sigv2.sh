#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: bima on a kernel booted with the ima-sigv2 template (tests/guest/templates.sh).
# vmtest-options: --cmdline "ima_template=ima-sigv2"
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"
. "$top/tests/guest/templates.sh"

template_test "ima-sigv2"
done_testing
