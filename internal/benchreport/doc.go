// Package benchreport presents what pkg/bench measured, as
// `inceptionctl bench` prints it: the tables (WriteTable), the SVG chart
// (WriteSVG), the comparison with an earlier run (Compare), and the
// targets a run is checked against.
//
// The targets are data: the project's defaults (Defaults), which a user
// sets by name (Targets.Set, Targets.ReadFile). pkg/bench measures and
// reports figures; it knows no target and prints no table.
package benchreport
