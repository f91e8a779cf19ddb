#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a libFuzzer target over its seed corpus without writing into the source tree:
# libFuzzer saves the new inputs it finds in its FIRST corpus directory, so that one is a
# work directory under the build tree; crash reproducers go to an artifacts directory there.
# usage: run-libfuzzer.sh FUZZER WORKDIR SEEDDIR [libFuzzer flags...]
set -eu
fuzzer=$1 work=$2 seeds=$3
shift 3
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" "$@" -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
