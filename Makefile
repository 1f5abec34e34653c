# qemu-viommu entry points (README.rst documents them).
#   make          set up (Debian packages, QEMU 10.0 source, graft) and build
#   make demo     the main demo
#   make check    all tests: unit, qtest, guest
#   make bench    benchmarks, printing figures
#   make fuzz     long fuzzing run
# Build outputs live in $VIOMMU_CACHE (default ~/.cache/qemu-viommu), not here.

.PHONY: all build configure demo check bench fuzz clean
all: build

configure:
	@./configure

build: configure
	@scripts/build.sh

demo: build
	@scripts/demo.sh

check: build
	@scripts/check.sh

bench: build
	@scripts/bench.sh

fuzz: configure
	@scripts/fuzz.sh long

clean:
	@. scripts/common.sh && rm -rf "$$QEMU_BUILD" "$$CORE_BUILD" && echo "removed build trees (sources and ccache kept)"
