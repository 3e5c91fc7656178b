# uai: the Universal Atomic Installer.
#   make run    the installer TUI in demo mode on build/demo-disk.img
#   make test   every test (installs the Debian packages it needs as root)
#   make lint   gofmt, go vet, staticcheck
#   make bench  benchmarks and side-by-side comparisons with standard tools

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BUILD     := build
UAI       := $(BUILD)/uai
LDFLAGS   := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Debian packages: what `make run` needs, and what the tests need on top
# (independent checkers such as sfdisk, sgdisk, fsck.fat and blkid).
RUN_PACKAGES  := dosfstools xfsprogs e2fsprogs btrfs-progs fusefat util-linux mount
TEST_PACKAGES := $(RUN_PACKAGES) fdisk gdisk mtools tmux dbus-daemon docker-registry skopeo cryptsetup-bin systemd swtpm libtss2-esys-3.0.2-0 libtss2-rc0 libtss2-mu0 libtss2-tcti-swtpm0 ntfs-3g xorriso

.PHONY: all build run test test-go lint fuzz bench deps-run deps-test clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(UAI) ./cmd/uai

# Install missing Debian packages when root; otherwise print the exact
# command and fail, so nothing is half set up.
define ensure_packages
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	  else \
	    echo "missing Debian packages:$$missing"; \
	    echo "install them with: sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi
endef

deps-run:
	$(call ensure_packages,$(RUN_PACKAGES))

deps-test:
	$(call ensure_packages,$(TEST_PACKAGES))

$(BUILD)/demo-disk.img:
	@mkdir -p $(BUILD)
	truncate -s 64G $@

run: deps-run build $(BUILD)/demo-disk.img
	$(UAI) install --demo --target $(BUILD)/demo-disk.img

lint:
	@out=$$(find . -name '*.go' -not -path './build/*' -not -path './.git/*' | xargs gofmt -l); \
	  if [ -n "$$out" ]; then echo "gofmt wants changes in:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

test-go:
	$(GO) test -count=1 -timeout 20m ./...

# A short run of every fuzz target on top of its seed corpus.
fuzz:
	@for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u); do \
	  for fn in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "fuzz $$dir $$fn"; \
	    $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime 10s $$dir || exit 1; \
	  done; \
	done

test: deps-test lint test-go fuzz

bench: deps-test build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	bash test/bench/handoff.sh
	bash test/bench/startup.sh
	bash test/bench/disks.sh
	bash test/bench/iso.sh
	bash test/bench/tui.sh
	bash test/bench/memory.sh

clean:
	rm -rf $(BUILD)

# The live ISO and its QEMU boots (make iso, make e2e). go test ./... boots
# the core scenarios, so the test run needs the ISO and its packages.
include iso/iso.mk
deps-test: deps-iso
test-go: iso
