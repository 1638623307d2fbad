// Package bench times image rebuilds on a BuildKit engine (Run) and the
// stack they make (RunRuntime); package report holds the figures, as JSON.
package bench
