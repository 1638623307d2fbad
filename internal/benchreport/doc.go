// Package benchreport presents what pkg/bench measured, as
// `inceptionctl bench` prints it: the targets a run is checked against,
// and whether it meets them.
//
// The targets are data: the project's defaults (Defaults), which a user
// sets by name (Targets.Set, Targets.ReadFile). pkg/bench measures and
// reports figures; it knows no target.
package benchreport
