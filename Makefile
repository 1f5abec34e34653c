# qemu-viommu entry points (README.rst documents them).
#   make          set up (Debian packages, QEMU 10.0 source, graft) and build
#   make demo     the main demo
#   make check    all tests: unit, qtest, guest, README's user-guest lines
#   make bench    benchmarks, printing figures
#   make fuzz     long fuzzing run (core fuzzers, then QEMU generic-fuzz on both IOMMUs)
#   make fuzz-smoke  the device fuzzers' seeds replayed and a short run of each
# demo and check also set up and build (QEMU and the guest kernels side by
# side, scripts/run-target.sh) and end with the time each phase took.
# Build outputs live in $VIOMMU_CACHE (default ~/.cache/qemu-viommu), not here.

.PHONY: all build configure demo check bench fuzz fuzz-smoke clean
all: build

configure:
	@./configure

build: configure
	@scripts/build.sh

demo:
	@scripts/run-target.sh demo

check:
	@scripts/run-target.sh check

bench: build
	@scripts/bench.sh

fuzz: configure
	@scripts/fuzz.sh long

fuzz-smoke: configure
	@scripts/fuzz.sh smoke

clean:
	@. scripts/common.sh && rm -rf "$$QEMU_BUILD" "$$CORE_BUILD" && echo "removed build trees (sources and ccache kept)"
