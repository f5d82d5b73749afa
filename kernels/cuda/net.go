package cuda

import (
	"fmt"

	"github.com/eandarn/eandarn/kernels"
)

// Limits of the network kernels (net.cu: NET_MAXW, NET_MAXC, NET_BS,
// NET_STEP).
const (
	netMaxWidth = 32  // widest slot: inputs, layer widths, outputs
	netMaxChan  = 9   // most Taylor channels, 1 + K1 + 2·K2
	netBlock    = 128 // threads (points) per block of the network kernels
)

// program encodes spec for net.cu (the format is in its header comment) and
// returns it with the number of features (Σ slot widths) and of tanh
// outputs (the pre-activation rows of the jets).
func program(s *kernels.NetSpec) (words []int64, features, pre int, err error) {
	if err := s.Validate(); err != nil {
		return nil, 0, 0, err
	}
	widths := s.SlotWidths()
	ns := len(s.Steps)
	words = []int64{int64(ns), int64(s.In), int64(s.Out), int64(ns + 1), 0}
	for _, w := range widths {
		if w > netMaxWidth {
			return nil, 0, 0, fmt.Errorf("slot of width %d: the kernels take at most %d", w, netMaxWidth)
		}
		words = append(words, int64(w), int64(features))
		features += w
	}
	words[4] = int64(features)
	for _, st := range s.Steps {
		if st.Mix {
			words = append(words, 1, int64(st.Src), int64(st.Skip), 0, 0, 0, 0, 0, int64(s.AlphaT+st.Block), 0)
			continue
		}
		l := s.Layers[st.Layer]
		tanh := int64(0)
		if l.Tanh {
			tanh = 1
		}
		words = append(words, 0, int64(st.Src), 0, int64(l.In), int64(l.Out), int64(l.W), int64(l.B), tanh, 0, int64(pre))
		if l.Tanh {
			pre += l.Out
		}
	}
	// The reverse pass holds one pending skip adjoint (net.cu): a mixing
	// step's skip slot must be read by a dense step before the next mixing
	// step in reverse order, as in the ARN.
	pending := -1
	for k := ns - 1; k >= 0; k-- {
		st := s.Steps[k]
		switch {
		case st.Mix && pending >= 0:
			return nil, 0, 0, fmt.Errorf("mixing step %d nested in the residual block of step reading slot %d: the kernels support the ARN's sequential blocks", k, pending)
		case st.Mix:
			pending = st.Skip
		case st.Src == pending:
			pending = -1
		}
	}
	return words, features, pre, nil
}

// net is the fused pass object of one network on the device.
type net struct {
	be            *Backend
	spec          *kernels.NetSpec
	opt           kernels.NetOptions
	code, norm    Ptr // the program and the normalizer (center, scale; doubles)
	features, pre int
	tape, part    scratch
	dirs          scratch // device array of the direction pointers
	dirPtrs       []uint64
	npts          int // points of the last Forward
	taped         bool
}

// NewNet builds the fused pass object of spec (float32 arithmetic and
// operands only).
func (be *Backend) NewNet(spec *kernels.NetSpec, opt kernels.NetOptions) (kernels.Net, error) {
	if opt.Compute != kernels.F32 || opt.IO != kernels.F32 {
		return nil, fmt.Errorf("kernels: %s: network pass in %v on %v operands: this backend runs float32 only", be.name, opt.Compute, opt.IO)
	}
	if opt.First < 0 || opt.Second < 0 || 1+opt.First+2*opt.Second > netMaxChan || opt.MaxPoints < 0 {
		return nil, fmt.Errorf("kernels: %s: network pass with %d first and %d second directions (at most %d channels 1+K1+2·K2), %d points",
			be.name, opt.First, opt.Second, netMaxChan, opt.MaxPoints)
	}
	words, features, pre, err := program(spec)
	if err != nil {
		return nil, fmt.Errorf("kernels: %s: network: %w", be.name, err)
	}
	n := &net{be: be, spec: spec, opt: opt, features: features, pre: pre}
	if n.code, err = AllocPut(be.dev, words); err != nil {
		return nil, err
	}
	if n.norm, err = AllocPut(be.dev, append(append([]float64(nil), spec.Center...), spec.Scale...)); err != nil {
		return nil, err
	}
	if opt.Tape && opt.MaxPoints > 0 {
		if err := n.tape.ensure(be.dev, 4*n.tapeFloats(opt.MaxPoints)); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// tapeFloats is the tape of a pass over npts points: every slot's channels
// and the tanh pre-activations of the derivative channels.
func (n *net) tapeFloats(npts int) int {
	nch := 1 + n.opt.First + 2*n.opt.Second
	return (n.features*nch + n.pre*(nch-1)) * npts
}

// Forward evaluates the network at the points x (In x npts) with the
// directions dirs into y ((1+K1+K2)·Out x npts).
func (n *net) Forward(params kernels.View, x kernels.Mat, dirs []kernels.Mat, y kernels.Mat) error {
	be, s, k1, k2 := n.be, n.spec, n.opt.First, n.opt.Second
	npts := x.Cols
	if n.opt.Tape && n.opt.MaxPoints > 0 && npts > n.opt.MaxPoints {
		return fmt.Errorf("kernels: %s: network forward over %d points, more than MaxPoints %d", be.name, npts, n.opt.MaxPoints)
	}
	if len(dirs) != k1+k2 {
		return fmt.Errorf("kernels: %s: network forward: %d directions, want %d", be.name, len(dirs), k1+k2)
	}
	pp, err := be.at(params, kernels.F32, s.NumParams, "network parameters")
	if err != nil {
		return err
	}
	px, err := be.mat(x, s.In, npts, "network inputs")
	if err != nil {
		return err
	}
	py, err := be.mat(y, (1+k1+k2)*s.Out, npts, "network outputs")
	if err != nil {
		return err
	}
	n.taped = false
	if npts == 0 {
		n.npts, n.taped = 0, n.opt.Tape
		return nil
	}
	if err := n.tape.ensure(be.dev, 4*n.tapeFloats(npts)); err != nil {
		return fmt.Errorf("kernels: %s: network tape: %w", be.name, err)
	}
	grid, block := Dim{X: blocks(npts, netBlock)}, Dim{X: netBlock}
	if k1+k2 == 0 {
		err = be.dev.Launch("net_forward", grid, block, 0, Args(P(n.code), P(pp), P(n.norm), P(px), I(npts), P(py), P(n.tape.p)))
	} else {
		var pd Ptr
		if pd, err = n.dirTable(dirs, npts); err != nil {
			return err
		}
		err = be.dev.Launch("net_forward_jet", grid, block, 0,
			Args(P(n.code), P(pp), P(n.norm), P(px), I(npts), P(pd), I(k1), I(k2), P(py), P(n.tape.p)))
	}
	if err != nil {
		return err
	}
	n.npts, n.taped = npts, n.opt.Tape
	return nil
}

// dirTable returns the device array of the directions' addresses, uploaded
// again only when they changed since the last pass.
func (n *net) dirTable(dirs []kernels.Mat, npts int) (Ptr, error) {
	ptrs := make([]uint64, len(dirs))
	for d, m := range dirs {
		p, err := n.be.mat(m, n.spec.In, npts, fmt.Sprintf("network direction %d", d))
		if err != nil {
			return 0, err
		}
		ptrs[d] = uint64(p)
	}
	if n.dirs.p != 0 && equalWords(ptrs, n.dirPtrs) {
		return n.dirs.p, nil
	}
	if err := n.dirs.ensure(n.be.dev, 8*len(ptrs)); err != nil {
		return 0, err
	}
	if err := Put(n.be.dev, n.dirs.p, ptrs); err != nil {
		return 0, err
	}
	n.dirPtrs = ptrs
	return n.dirs.p, nil
}

func equalWords(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Backward adds to grad the weight gradient given the adjoints gy of the
// last Forward's outputs.
func (n *net) Backward(params kernels.View, gy kernels.Mat, grad kernels.View) error {
	be, s, k1, k2 := n.be, n.spec, n.opt.First, n.opt.Second
	if !n.taped {
		return fmt.Errorf("kernels: %s: network backward without a taped forward pass", be.name)
	}
	np := s.NumParams
	pp, err := be.at(params, kernels.F32, np, "network parameters")
	if err != nil {
		return err
	}
	pgy, err := be.mat(gy, (1+k1+k2)*s.Out, n.npts, "network output adjoints")
	if err != nil {
		return err
	}
	pg, err := be.at(grad, kernels.F32, np, "network gradient")
	if err != nil {
		return err
	}
	if n.npts == 0 {
		return nil
	}
	nb := blocks(n.npts, netBlock)
	if err := n.part.ensure(be.dev, 4*nb*np); err != nil {
		return fmt.Errorf("kernels: %s: network gradient partials: %w", be.name, err)
	}
	grid, block := Dim{X: nb}, Dim{X: netBlock}
	if k1+k2 == 0 {
		err = be.dev.Launch("net_backward", grid, block, 0, Args(P(n.code), P(pp), P(n.tape.p), I(n.npts), P(pgy), P(n.part.p), I(np)))
	} else {
		err = be.dev.Launch("net_backward_jet", grid, block, 0,
			Args(P(n.code), P(pp), P(n.tape.p), I(n.npts), I(k1), I(k2), P(pgy), P(n.part.p), I(np)))
	}
	if err != nil {
		return err
	}
	return be.each("net_grad_reduce", np, P(n.part.p), I(nb), I(np), P(pg))
}

// Free releases the pass's device memory.
func (n *net) Free() {
	d := n.be.dev
	n.tape.free(d)
	n.part.free(d)
	n.dirs.free(d)
	d.Free(n.code)
	d.Free(n.norm)
}
