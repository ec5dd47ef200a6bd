#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# dracut pre-pivot hook: the real root is at $NEWROOT; hand bima over.
rootmnt=${NEWROOT:-/sysroot}
. /scripts/bima-functions
bima_handover
