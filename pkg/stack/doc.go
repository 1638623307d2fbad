// Package stack describes the Inception stack: which services exist, the
// image each one runs and how images are named. Commands resolve service
// names here, so an unknown name fails before any daemon is asked anything.
//
//	st := stack.Default()
//	svcs, err := st.Select([]string{"nginx"})
package stack
