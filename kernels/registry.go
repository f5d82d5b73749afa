package kernels

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Options configure a backend when it is opened.
type Options struct {
	// Workers is the number of goroutines of the CPU backend's ops; 0 means
	// runtime.GOMAXPROCS(0). Results do not depend on it. Device backends
	// ignore it.
	Workers int
}

// Opener opens a registered backend.
type Opener func(Options) (Backend, error)

var registry struct {
	sync.Mutex
	open map[string]Opener
}

// Register makes a backend available to Open under name. It is called from
// an init function (the CPU backend registers "cpu"); registering a name
// twice panics.
func Register(name string, open Opener) {
	registry.Lock()
	defer registry.Unlock()
	if registry.open == nil {
		registry.open = make(map[string]Opener)
	}
	if _, dup := registry.open[name]; dup || name == "" || open == nil {
		panic(fmt.Sprintf("kernels: Register(%q): empty, nil or registered twice", name))
	}
	registry.open[name] = open
}

// Names returns the registered backend names, sorted.
func Names() []string {
	registry.Lock()
	defer registry.Unlock()
	names := make([]string, 0, len(registry.open))
	for n := range registry.open {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open opens the backend registered under name.
func Open(name string, opt Options) (Backend, error) {
	registry.Lock()
	open := registry.open[name]
	registry.Unlock()
	if open == nil {
		names := Names()
		return nil, fmt.Errorf("kernels: no backend %q in this build (have %s)", name, strings.Join(names, ", "))
	}
	if opt.Workers < 0 {
		return nil, fmt.Errorf("kernels: open %s: %d workers", name, opt.Workers)
	}
	b, err := open(opt)
	if err != nil {
		return nil, fmt.Errorf("kernels: open %s: %w", name, err)
	}
	return b, nil
}

// Registered reports whether a backend of that name is in this build.
func Registered(name string) bool { return slices.Contains(Names(), name) }
