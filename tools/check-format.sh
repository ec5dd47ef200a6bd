#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Check (or with --fix, apply) .clang-format on the project's C sources.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find bpf user tests tools -name '*.[ch]' | sort)
if [ "${1:-}" = --fix ]; then
	exec clang-format -i "${files[@]}"
fi
if clang-format --dry-run --Werror "${files[@]}"; then
	echo "ok - ${#files[@]} C files follow .clang-format"
else
	echo "not ok - C files differ from .clang-format (make format fixes them)"
	exit 1
fi
