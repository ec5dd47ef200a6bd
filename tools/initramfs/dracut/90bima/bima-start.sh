#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# dracut cmdline hook (the earliest): start bima.
. /scripts/bima-functions
bima_start
