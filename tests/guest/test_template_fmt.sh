#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: bima on a kernel booted with the d-ngv2|n-ng|iuid|igid|imode template (tests/guest/templates.sh).
# vmtest-options: --cmdline "ima_template_fmt=d-ngv2|n-ng|iuid|igid|imode"
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"
. "$top/tests/guest/templates.sh"

template_test "d-ngv2|n-ng|iuid|igid|imode"
done_testing
