#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# dracut pre-pivot hook: the real root is at $NEWROOT; hand bima over.
# shellcheck disable=SC2034 # rootmnt: read by bima-functions
rootmnt=${NEWROOT:-/sysroot}
. /scripts/bima-functions
bima_handover
